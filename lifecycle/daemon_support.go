package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// The daemon's supporting work: heartbeats during a converge, running
// again an event a crash cut short, setup at boot.

// heartbeats keeps the SQS message invisible and the lifecycle hook alive
// while a converge runs.
func (d *Daemon) heartbeats(ctx context.Context, m *Message, ev *Event) func() {
	var stops []func()
	if ext, ok := d.Source.(VisibilityExtender); ok && m != nil {
		stops = append(stops, Heartbeat(context.WithoutCancel(ctx), ext, m, d.HeartbeatEvery, d.VisibilityExtend))
	}
	if c := d.completer(); ev.Hook != nil && c != nil {
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(d.HookHeartbeatEvery)
			defer t.Stop()
			for {
				select {
				case <-hctx.Done():
					return
				case <-t.C:
					cctx, end := context.WithTimeout(hctx, d.CallTimeout)
					err := c.Heartbeat(cctx, ev.Hook)
					end()
					if err != nil {
						d.Log.Warn("lifecycle action heartbeat failed", "event", ShortID(ev.ID), "error", err)
					}
				}
			}
		}()
		stops = append(stops, func() { cancel(); wg.Wait() })
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// recover runs again an event that was converging when the agent died.
func (d *Daemon) recover(ctx context.Context) error {
	ip, err := LoadInProgress(d.inProgressPath())
	if err != nil {
		return errors.Join(err, ClearInProgress(d.inProgressPath()))
	}
	if ip == nil {
		return nil
	}
	if _, done := d.Journal.Done(ip.Event.ID); done {
		return ClearInProgress(d.inProgressPath())
	}
	if ip.Attempts >= d.MaxAttempts {
		d.Log.Error("event did not finish too often; giving up", "event", ShortID(ip.Event.ID), "attempts", ip.Attempts, "interrupted", ip.Interrupted)
		d.finish(ctx, nil, ip.Event, d.result(ip.Event, StatusFailed,
			fmt.Sprintf("gave up after %d attempts that did not finish (%d stopped by a signal such as SIGTERM, %d crashed or killed)",
				ip.Attempts, ip.Interrupted, ip.Attempts-ip.Interrupted), &Outcome{ExitCode: 1}, d.Now()))
		return nil
	}
	d.Log.Warn("the agent stopped while converging; running the event again", "event", ShortID(ip.Event.ID), "type", ip.Event.Type,
		"started", ip.Started, "attempt", ip.Attempts+1)
	d.process(ctx, nil, ip.Event)
	return nil
}

// bootSetup runs setup once after boot when it never succeeded here.
func (d *Daemon) bootSetup(ctx context.Context) {
	b, err := os.ReadFile(d.BootIDFile)
	if err != nil {
		d.Log.Warn("cannot read the boot id; not running setup at boot", "error", err)
		return
	}
	bootID := strings.TrimSpace(string(b))
	marker := filepath.Join(d.StateDir, "boot_id")
	prev, _ := os.ReadFile(marker)
	if strings.TrimSpace(string(prev)) == bootID {
		return // not the first start after this boot
	}
	if err := atomicfile.WriteFile(marker, []byte(bootID+"\n"), 0o640); err != nil {
		d.Log.Error("recording the boot id", "error", err)
	}
	if _, err := os.Stat(filepath.Join(d.StateDir, "setup.succeeded")); err == nil {
		return
	}
	ev := &Event{Version: 1, ID: "boot-setup-" + bootID, Type: TypeSetup, IssuedAt: d.Now().UTC(), Envelope: "boot",
		Stack: d.Identity.Stack, Layers: d.Identity.Layers}
	if d.BootHook != nil {
		h := *d.BootHook
		h.InstanceID, h.Transition = d.Identity.InstanceID, TransitionLaunching
		ev.Hook = &h
	}
	if _, done := d.Journal.Done(ev.ID); done {
		return
	}
	d.Log.Info("setup has never succeeded on this host; running it now", "event", ShortID(ev.ID))
	d.process(ctx, nil, ev)
}

// refusedType is the type a refused event claims, when it names a known
// one (for metrics; unknown otherwise).
func refusedType(body []byte) string {
	var v struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &v) == nil {
		for _, t := range eventTypes {
			if v.Type == t {
				return t
			}
		}
	}
	return ""
}

// journal records a finished event. A failed write (a full disk) is
// tried again, 1 s after the first failure and backing off to 30 s, until
// it succeeds or the daemon stops: the event ran, and it is acknowledged
// only once its entry is on disk, so space coming back never makes it run
// a second time.
func (d *Daemon) journal(stop context.Context, ev *Event, status Status) error {
	wait := time.Second
	for {
		err := d.Journal.Record(ev.ID, status)
		if err == nil || stop.Err() != nil {
			return err
		}
		d.Log.Error("cannot journal the event; trying again", "event", ShortID(ev.ID), "error", err, "retry_in", wait)
		select {
		case <-stop.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// notAcknowledged leaves an event whose journal entry could not be
// written (a full disk) unacknowledged: the message is neither deleted
// nor handed back (SQS redelivers it after its visibility timeout, the
// inbox keeps the file until the next start) and the in-progress record
// stays, so the event is settled again later instead of being forgotten
// without a record that it ran.
func (d *Daemon) notAcknowledged(m *Message, ev *Event, err error) {
	msg := ""
	if m != nil {
		msg = m.ID
	}
	d.Log.Error("cannot journal the event; not acknowledging it", "event", ShortID(ev.ID), "message", msg, "error", err)
}
