package lifecycle

import (
	"context"
	"fmt"
)

// Hooks: what the daemon tells around each event, registered in
// Daemon.Hooks and run in that order. A hook implements Hook and one or
// more of StateHook, SettleHook and ResultHook; the agent's list and its
// order are in docs/architecture.md.

// Hook is one named observer of the daemon.
type Hook interface {
	Name() string
}

// StateHook is told what the daemon is doing: polling, converging (with
// the event), backing off, stopped.
type StateHook interface {
	Hook
	OnState(state State, ev *Event)
}

// SettleHook tells the outside world an event's result before the event
// is acknowledged (journaled, its message deleted): a crash in between
// repeats the call, never loses it. Each call gets Daemon.CallTimeout; an
// error is logged and the event is settled all the same.
type SettleHook interface {
	Hook
	Settle(ctx context.Context, ev *Event, r *Result) error
}

// ResultHook is told every result once the event is acknowledged; ev is
// nil for a message that is not an event.
type ResultHook interface {
	Hook
	OnResult(ctx context.Context, ev *Event, r *Result)
}

// ReplyHook reports each reportable result to the reply target.
type ReplyHook struct{ Reporter Reporter }

// Name is "reply".
func (ReplyHook) Name() string { return "reply" }

// Settle reports r when the event asks for a reply.
func (h ReplyHook) Settle(ctx context.Context, ev *Event, r *Result) error {
	if !Reportable(ev, r) {
		return nil
	}
	if err := h.Reporter.Report(ctx, r); err != nil {
		return fmt.Errorf("reporting the result: %w", err)
	}
	return nil
}

// CompletionHook completes the Auto Scaling lifecycle action of an event
// that came from a lifecycle hook, once it succeeded or failed.
type CompletionHook struct{ Completer HookCompleter }

// Name is "lifecycle-hook".
func (CompletionHook) Name() string { return "lifecycle-hook" }

// Settle completes ev's lifecycle action with CONTINUE or ABANDON.
func (h CompletionHook) Settle(ctx context.Context, ev *Event, r *Result) error {
	if ev.Hook == nil || (r.Status != StatusSuccess && r.Status != StatusFailed) {
		return nil
	}
	if err := h.Completer.Complete(ctx, ev.Hook, HookResult(r)); err != nil {
		return fmt.Errorf("completing the lifecycle action: %w", err)
	}
	return nil
}

// state tells every StateHook, in order.
func (d *Daemon) state(s State, ev *Event) {
	for _, h := range d.Hooks {
		if sh, ok := h.(StateHook); ok {
			sh.OnState(s, ev)
		}
	}
}

// settleHooks runs every SettleHook, in order, each bounded by
// CallTimeout.
func (d *Daemon) settleHooks(ctx context.Context, ev *Event, r *Result) {
	for _, h := range d.Hooks {
		sh, ok := h.(SettleHook)
		if !ok {
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, d.CallTimeout)
		err := sh.Settle(hctx, ev, r)
		cancel()
		if err != nil {
			d.Log.Error("hook "+h.Name()+" failed", "event", ShortID(ev.ID), "error", err)
		}
	}
}

// resulted tells every ResultHook, in order.
func (d *Daemon) resulted(ctx context.Context, ev *Event, r *Result) {
	for _, h := range d.Hooks {
		if rh, ok := h.(ResultHook); ok {
			rh.OnResult(ctx, ev, r)
		}
	}
}

// completer is the Auto Scaling client of the registered CompletionHook,
// which also keeps a long run's lifecycle action alive (heartbeats).
func (d *Daemon) completer() HookCompleter {
	for _, h := range d.Hooks {
		if c, ok := h.(CompletionHook); ok {
			return c.Completer
		}
	}
	return nil
}
