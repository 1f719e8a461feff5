package main

import (
	"context"
	"sync"

	"github.com/stackagent/stackagent/internal/sdnotify"
	"github.com/stackagent/stackagent/lifecycle"
)

// The daemon's hooks (lifecycle/hooks.go), registered in one place, in
// this order (docs/architecture.md):
//
//  1. reply           the result to the reply queue or topic (reply_to)
//  2. lifecycle-hook  CompleteLifecycleAction for Auto Scaling events
//  3. metrics         Prometheus metrics and the health endpoint
//  4. heal            pauses the watchdog while converging; keeps the
//                     attributes for, and tells, drift correction
//  5. notify          systemd READY/STATUS
//
// reply and lifecycle-hook run before the event is acknowledged (settle
// hooks); the others are told the state and, once the event is
// acknowledged, its result.

// setHooks registers the daemon's hooks: reply and lifecycle-hook when
// AWS provides them, then the given ones (metrics, heal, notify) in order.
func (w *wiredDaemon) setHooks(rest ...lifecycle.Hook) {
	var hooks []lifecycle.Hook
	if w.reporter != nil {
		hooks = append(hooks, lifecycle.ReplyHook{Reporter: w.reporter})
	}
	if w.completer != nil {
		hooks = append(hooks, lifecycle.CompletionHook{Completer: w.completer})
	}
	for _, h := range rest {
		if h != nil {
			hooks = append(hooks, h)
		}
	}
	w.Hooks = hooks
}

// metricsHook feeds the daemon's state and results to the metrics and the
// health endpoint.
type metricsHook struct{ t *daemonTelemetry }

func (metricsHook) Name() string { return "metrics" }

func (h metricsHook) OnState(state lifecycle.State, ev *lifecycle.Event) {
	h.t.metrics.SetState(string(state))
	h.t.metrics.BackingOff(state == lifecycle.StateBackingOff)
	h.t.health.SetState(string(state), ev)
}

func (h metricsHook) OnResult(_ context.Context, _ *lifecycle.Event, r *lifecycle.Result) {
	h.t.metrics.ObserveResult(r)
	h.t.health.ObserveResult(r)
}

// notifyHook tells systemd: READY once the source is first polled, and
// what the daemon is doing as STATUS.
type notifyHook struct {
	notify *sdnotify.Notifier
	source string
	ready  *sync.Once
}

func (notifyHook) Name() string { return "notify" }

func (h notifyHook) OnState(state lifecycle.State, ev *lifecycle.Event) {
	switch state {
	case lifecycle.StatePolling:
		h.ready.Do(func() { h.notify.Ready() }) // systemd: started once the source is being polled
		h.notify.Status("polling " + h.source)
	case lifecycle.StateConverging:
		if ev != nil {
			h.notify.Status("converging " + ev.Type + " " + lifecycle.ShortID(ev.ID))
		}
	case lifecycle.StateBackingOff:
		h.notify.Status("receive failing; backing off")
	}
}
