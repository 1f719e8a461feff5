package lifecycle

import (
	"context"
	"time"
)

// Storms. A controller that publishes configure after configure (a scaling
// burst) must cost each host at most two configure runs, the last on the
// newest attributes. The daemon holds what it received; before it starts a
// configure, and after every converge, it drains the source (receives
// until a receive comes back empty, bounded by DrainMax messages and
// DrainFor), and with ConfigureSettle it also waits until no event came
// for that long (at most settleRounds × ConfigureSettle). Every configure
// older than the newest it holds is answered superseded and deleted at
// once; held messages are kept invisible by heartbeats while they wait.

// Waiter is a Source that can receive with a given wait: 0 returns at once
// with what is waiting (SQS short receive, an inbox scan).
type Waiter interface {
	ReceiveWait(ctx context.Context, wait time.Duration) ([]*Message, error)
}

// Drain bounds by default.
const (
	DefaultDrainMax = 500
	DefaultDrainFor = 10 * time.Second
	// settleRounds bounds a settle: a burst that never ends still runs
	// after settleRounds × ConfigureSettle.
	settleRounds = 60
)

type pending struct {
	m    *Message
	ev   *Event
	stop func() // ends the heartbeat that keeps m invisible while held
}

// serve runs the events of msgs and of every drain after them, one at a
// time, until nothing is held.
func (d *Daemon) serve(ctx, rctx context.Context, msgs []*Message) {
	held := d.admit(ctx, nil, msgs)
	for len(held) > 0 {
		if rctx.Err() != nil || d.restart {
			// Stopping or draining: hand the rest back at once.
			for _, p := range held {
				p.stop()
				d.release(p.m)
			}
			return
		}
		if held[0].ev.Type == TypeConfigure {
			held = d.gather(ctx, rctx, held)
			if len(held) == 0 || rctx.Err() != nil {
				continue
			}
		}
		next := held[0]
		held = held[1:]
		next.stop()
		if reason, stale := d.stale(next.ev); stale {
			d.finish(ctx, next.m, next.ev, d.result(next.ev, StatusSuperseded, reason, nil, d.Now()))
			continue
		}
		d.process(ctx, next.m, next.ev)
		if rctx.Err() == nil && !d.restart {
			held = d.drain(ctx, rctx, held)
		}
	}
}

// admit triages msgs into held: what needs no run is settled at once; a
// second delivery of a held event replaces the first (its receipt handle
// is the valid one); stale configures are answered superseded.
func (d *Daemon) admit(ctx context.Context, held []pending, msgs []*Message) []pending {
	for _, m := range msgs {
		p, ok := d.triage(ctx, m)
		if !ok {
			continue
		}
		if i := heldIndex(held, p.ev.ID); i >= 0 && held[i].m.ID != m.ID {
			// The same event in another message: one run is enough.
			d.Log.Info("duplicate delivery of an event already waiting; deleted without a run", "event", ShortID(p.ev.ID), "message", m.ID)
			d.delete(ctx, m)
			continue
		} else if i >= 0 {
			d.Log.Info("the queue delivered a waiting message again; keeping the new delivery", "event", ShortID(p.ev.ID), "message", m.ID)
			held[i].stop()
			held[i].m = m
			held[i].stop = d.hold(ctx, m)
			continue
		}
		if reason, stale := d.stale(p.ev); stale {
			d.Log.Info("event older than one already applied; superseded", "event", ShortID(p.ev.ID), "reason", reason)
			d.finish(ctx, m, p.ev, d.result(p.ev, StatusSuperseded, reason, nil, d.Now()))
			continue
		}
		p.stop = d.hold(ctx, m)
		held = append(held, p)
	}
	return d.supersede(ctx, held)
}

// supersede answers every held configure but the newest.
func (d *Daemon) supersede(ctx context.Context, held []pending) []pending {
	events := make([]*Event, len(held))
	for i, p := range held {
		events[i] = p.ev
	}
	keep, superseded := Supersede(events)
	if len(superseded) == 0 {
		return held
	}
	var newest *Event
	for _, ev := range keep {
		if ev.Type == TypeConfigure {
			newest = ev
		}
	}
	for _, ev := range superseded {
		p := held[heldIndex(held, ev.ID)]
		p.stop()
		reason := supersededBy(newest.Type, newest.ID, newest.IssuedAt, newest.Sequence) + " and waiting to run"
		d.finish(ctx, p.m, ev, d.result(ev, StatusSuperseded, reason, nil, d.Now()))
	}
	out := make([]pending, 0, len(keep))
	for _, ev := range keep {
		out = append(out, held[heldIndex(held, ev.ID)])
	}
	return out
}

// gather drains before a configure, then, with ConfigureSettle, waits for
// the burst to end.
func (d *Daemon) gather(ctx, rctx context.Context, held []pending) []pending {
	held = d.drain(ctx, rctx, held)
	w, ok := d.Source.(Waiter)
	if !ok {
		return held
	}
	if d.ConfigureSettle <= 0 {
		return d.confirm(ctx, rctx, w, held)
	}
	end := d.Now().Add(settleRounds * d.ConfigureSettle)
	for rctx.Err() == nil && hasConfigure(held) {
		left := end.Sub(d.Now())
		if left <= 0 {
			d.Log.Info("events keep coming; running the newest configure without waiting longer",
				"settle", d.ConfigureSettle, "waited", settleRounds*d.ConfigureSettle)
			break
		}
		msgs, err := w.ReceiveWait(rctx, min(d.ConfigureSettle, left))
		if err != nil || len(msgs) == 0 {
			break // quiet for ConfigureSettle: the burst is over
		}
		held = d.admit(ctx, held, msgs)
		held = d.drain(ctx, rctx, held)
	}
	return held
}

// confirm ends a drain before a configure with one receive of DrainConfirm
// (SQS: an empty short receive samples only some servers, a long poll
// asks them all), taking what it brings.
func (d *Daemon) confirm(ctx, rctx context.Context, w Waiter, held []pending) []pending {
	if d.DrainConfirm <= 0 || rctx.Err() != nil {
		return held
	}
	msgs, err := w.ReceiveWait(rctx, d.DrainConfirm)
	if err != nil || len(msgs) == 0 {
		return held
	}
	return d.drain(ctx, rctx, d.admit(ctx, held, msgs))
}

// drain receives what is waiting until a receive comes back empty, at most
// DrainMax messages or DrainFor.
func (d *Daemon) drain(ctx, rctx context.Context, held []pending) []pending {
	w, ok := d.Source.(Waiter)
	if !ok {
		return held
	}
	end := d.Now().Add(d.DrainFor)
	for n := 0; n < d.DrainMax && rctx.Err() == nil && d.Now().Before(end); {
		msgs, err := w.ReceiveWait(rctx, 0)
		if err != nil {
			if rctx.Err() == nil {
				d.Log.Warn("draining the source", "error", err)
			}
			break
		}
		if len(msgs) == 0 {
			break
		}
		n += len(msgs)
		held = d.admit(ctx, held, msgs)
	}
	return held
}

// stale says whether a newer event of ev's state key already ran.
func (d *Daemon) stale(ev *Event) (string, bool) {
	if d.Applied == nil {
		return "", false
	}
	m, older := d.Applied.Older(ev)
	if !older {
		return "", false
	}
	kind := ev.Type
	if ev.App != "" {
		kind += " of " + ev.App
	}
	return supersededBy(kind, m.EventID, m.IssuedAt, m.Sequence) + " and was applied at " + m.Applied.Format(time.RFC3339), true
}

// hold keeps m invisible while it waits to run.
func (d *Daemon) hold(ctx context.Context, m *Message) func() {
	if ext, ok := d.Source.(VisibilityExtender); ok && m != nil {
		return Heartbeat(context.WithoutCancel(ctx), ext, m, d.HeartbeatEvery, d.VisibilityExtend)
	}
	return func() {}
}

func hasConfigure(held []pending) bool {
	for _, p := range held {
		if p.ev.Type == TypeConfigure {
			return true
		}
	}
	return false
}

func heldIndex(held []pending, id string) int {
	for i, p := range held {
		if p.ev.ID == id {
			return i
		}
	}
	return -1
}
