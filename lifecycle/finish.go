package lifecycle

import (
	"context"
	"time"
)

// Settling an event: its result, kept, reported and acknowledged.

func (d *Daemon) result(ev *Event, status Status, reason string, out *Outcome, start time.Time) *Result {
	r := &Result{EventID: ev.ID, EventType: ev.Type, App: ev.App, Command: ev.Command, InstanceID: d.Identity.InstanceID,
		Stack: d.Identity.Stack, Status: status, Reason: reason, Start: start.UTC(), End: d.Now().UTC()}
	if out != nil {
		r.ExitCode, r.Updated, r.Total, r.Output = out.ExitCode, out.Updated, out.Total, Tail(out.Output, 2048)
		r.RunList = out.RunList
	}
	return r
}

// finish settles an event: the result is kept locally, the settle hooks
// run (reported, the lifecycle hook completed), the id journaled, the in-progress record
// cleared and the message deleted — in that order, so a crash at any
// point leads at worst to a repeated report, never to a lost or doubled
// run.
func (d *Daemon) finish(ctx context.Context, m *Message, ev *Event, r *Result) {
	stop := ctx
	ctx = context.WithoutCancel(ctx)
	if d.Results != nil {
		if _, err := d.Results.Save(r); err != nil {
			d.Log.Error("saving the result", "event", ShortID(ev.ID), "error", err)
		}
	}
	if rr, ok := d.Source.(ResultRecorder); ok && m != nil {
		if err := rr.RecordResult(m, r); err != nil {
			d.Log.Error("recording the result with the message", "event", ShortID(ev.ID), "error", err)
		}
	}
	d.settleHooks(ctx, ev, r)
	if ev.ID != "" {
		if err := d.journal(stop, ev, r.Status); err != nil {
			d.notAcknowledged(m, ev, err)
			return
		}
	}
	if ip, _ := LoadInProgress(d.inProgressPath()); ip != nil && ip.Event.ID == ev.ID {
		ClearInProgress(d.inProgressPath())
	}
	d.delete(ctx, m)
	d.resulted(ctx, ev, r)
	d.Log.Info("event finished", "event", ShortID(ev.ID), "type", ev.Type, "status", r.Status, "exit_code", r.ExitCode,
		"updated", r.Updated, "total", r.Total, "seconds", r.End.Sub(r.Start).Seconds())
}

func (d *Daemon) delete(ctx context.Context, m *Message) {
	if m == nil {
		return
	}
	if err := d.Source.Delete(context.WithoutCancel(ctx), m); err != nil {
		d.Log.Error("deleting the message", "message", m.ID, "error", err)
	}
}

func (d *Daemon) release(m *Message) {
	if m == nil {
		return
	}
	if r, ok := d.Source.(Releaser); ok {
		if err := r.Release(context.Background(), m); err != nil {
			d.Log.Warn("handing the message back", "message", m.ID, "error", err)
		}
	}
}
