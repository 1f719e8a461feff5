package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/heal"
	"github.com/stackagent/stackagent/internal/hostlock"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

// Auto heal's files in the state directory: the watched services and the
// hand-back (heal/watch.json), and the attributes of the last event that
// converged the stack (heal/attributes.json), which periodic runs reuse.
const (
	healWatchFile = "heal/watch.json"
	healAttrsFile = "heal/attributes.json"
)

// startHeal wires auto heal into the daemon (see docs/autoheal.md): the
// watchdog over the services the converges declare, and, when
// drift_interval is set, the periodic configure runs. It returns the
// daemon's heal hook; stop ends both.
func startHeal(ctx context.Context, cfg *Config, w *wiredDaemon, tel *daemonTelemetry, log *slog.Logger) (hook *healHook, stop func()) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	hook = &healHook{wd: newWatchdog(ctx, hctx, cfg, w, tel, log), attrsPath: filepath.Join(cfg.StateDir, healAttrsFile), log: log}
	if cfg.DriftInterval > 0 {
		hook.drift = newDrift(cfg, w.Identity, hook.attrsPath, tel, log)
		w.Periodic = hook.drift.C()
		log.Info("drift correction on: the configure run list runs periodically", "interval", cfg.DriftInterval, "splay", cfg.DriftSplay)
	}
	if w.engine != nil {
		w.engine.onNode = hook.watchNode
	}
	tel.health.SetAutoHeal(hook.status)
	if cfg.WatchInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); hook.wd.Run(hctx) }()
	} else {
		log.Info("watchdog off (watch_interval 0)")
	}
	if hook.drift != nil {
		wg.Add(1)
		go func() { defer wg.Done(); hook.drift.Run(hctx) }()
	}
	return hook, stop
}

// newWatchdog is the watchdog of the daemon's host, its state loaded; its
// repairs and hand-backs go to the reply target (within hctx).
func newWatchdog(ctx, hctx context.Context, cfg *Config, w *wiredDaemon, tel *daemonTelemetry, log *slog.Logger) *heal.Watchdog {
	wd := &heal.Watchdog{
		Interval: cfg.WatchInterval, RepairMax: cfg.RepairMax, RepairWindow: cfg.RepairWindow, Escalate: cfg.Escalate,
		InstanceID: w.Identity.InstanceID, StateFile: filepath.Join(cfg.StateDir, healWatchFile),
		Log: log, Metrics: tel.heal,
	}
	if w.engine != nil && w.engine.lockPath != "" {
		wd.Lock = repairLock(w.engine.lockPath)
	}
	if cfg.Escalate {
		wd.Healther = healther(ctx, cfg, w.engine, log)
	}
	wd.OnEvent = func(ev heal.Event) {
		if w.reporter == nil {
			return
		}
		rctx, done := context.WithTimeout(hctx, 30*time.Second)
		defer done()
		if err := w.reporter.Report(rctx, healResult(w.Identity, ev)); err != nil {
			log.Error("reporting the watchdog's "+ev.Kind, "service", ev.Service, "error", err)
		}
	}
	if err := wd.Load(); err != nil {
		log.Warn("watchdog: cannot read its state; starting afresh", "error", err)
	}
	return wd
}

// repairLock takes the host lock for a repair, or says who holds it.
func repairLock(path string) func() (func(), string, bool) {
	return func() (func(), string, bool) {
		l, h, err := hostlock.TryAcquire(path, "daemon watchdog repair")
		if err != nil {
			who := err.Error()
			if h != nil {
				who = h.String()
			}
			return nil, who, false
		}
		return func() { l.Release() }, "", true
	}
}

// newDrift is drift correction: periodic configure events carrying the
// last stack event's attributes.
func newDrift(cfg *Config, id lifecycle.Identity, attrsPath string, tel *daemonTelemetry, log *slog.Logger) *heal.Drift {
	return &heal.Drift{Interval: cfg.DriftInterval, Splay: cfg.DriftSplay, Log: log, Metrics: tel.heal,
		Make: func(now time.Time) *lifecycle.Event {
			ev := &lifecycle.Event{Version: 1, ID: "drift-" + now.UTC().Format("20060102T150405.000Z"),
				Type: lifecycle.TypeConfigure, IssuedAt: now.UTC(), Envelope: lifecycle.EnvelopeDrift,
				Stack: id.Stack, Layers: id.Layers}
			ev.Attributes = readAttrs(attrsPath, log)
			return ev
		}}
}

// healHook is auto heal's daemon hook: a converge pauses the watchdog's
// checks (it may stop and restart services on purpose); a stack event
// that converged keeps its attributes for the periodic runs, and drift
// correction is told every result.
type healHook struct {
	wd        *heal.Watchdog
	drift     *heal.Drift // nil: drift correction off
	attrsPath string
	log       *slog.Logger
}

func (*healHook) Name() string { return "heal" }

func (h *healHook) OnState(state lifecycle.State, _ *lifecycle.Event) {
	h.wd.Pause(state == lifecycle.StateConverging)
}

func (h *healHook) OnResult(_ context.Context, ev *lifecycle.Event, r *lifecycle.Result) {
	if ev != nil && ev.ID == r.EventID && r.Status == lifecycle.StatusSuccess && ev.Envelope != lifecycle.EnvelopeDrift {
		switch ev.Type {
		case lifecycle.TypeSetup, lifecycle.TypeConfigure, lifecycle.TypeDeploy:
			writeAttrs(h.attrsPath, ev.Attributes, h.log)
		}
	}
	if h.drift != nil {
		h.drift.Observe(r)
	}
}

// watchNode takes the watched services from a converge's node; shutdown
// clears them.
func (h *healHook) watchNode(job *lifecycle.Job, node *recipes.Node) {
	if job.Event.Type == lifecycle.TypeShutdown {
		h.wd.Clear("the instance is shutting down")
		return
	}
	ws, errs := heal.ParseWatches(node.Merged())
	for _, err := range errs {
		h.log.Warn("watchdog: ignoring a watch declaration", "error", err)
	}
	h.wd.Update(ws)
}

// status is auto heal's part of the health endpoint and status.
func (h *healHook) status() *heal.Status {
	st := h.wd.Status()
	if h.drift != nil {
		st.Drift = h.drift.Status()
	}
	return st
}

// healther is the Auto Scaling client the watchdog hands the instance back
// with (the instance profile's credentials), or nil without AWS.
func healther(ctx context.Context, cfg *Config, e *engine, log *slog.Logger) heal.Healther {
	var auto map[string]any
	if e != nil {
		auto = e.automatic
	}
	awsCfg, err := awsconfig.Load(ctx, cfg.awsOptions(auto))
	if err != nil {
		log.Info("watchdog: AWS is not configured; a sick instance cannot be handed back to an Auto Scaling group (repairs go on)", "error", err)
		return nil
	}
	// AWS_ENDPOINT_URL_AUTO_SCALING wins over the endpoint key (which
	// points every client at one server): the Auto Scaling API alone can
	// be sent elsewhere (a VPC endpoint, a test server).
	return heal.NewASGHealther(autoscaling.NewFromConfig(awsCfg, func(o *autoscaling.Options) {
		if u := os.Getenv("AWS_ENDPOINT_URL_AUTO_SCALING"); u != "" {
			o.BaseEndpoint = &u
		}
	}))
}

// healResult is a repair or hand-back as a result on the reply target.
func healResult(id lifecycle.Identity, ev heal.Event) *lifecycle.Result {
	r := &lifecycle.Result{EventType: ev.Kind, InstanceID: id.InstanceID, Stack: id.Stack,
		Start: ev.Start, End: ev.End, Status: lifecycle.StatusSuccess, Output: ev.Output}
	stamp := ev.Start.UTC().Format("20060102T150405.000Z")
	switch ev.Kind {
	case "repair":
		r.EventID = "repair-" + ev.Service + "-" + stamp
		r.Command = "restart"
		r.Reason = fmt.Sprintf("%s was down (%s); restarted", ev.Service, ev.Reason)
		if len(ev.Command) > 0 {
			r.Reason += " with " + strings.Join(ev.Command, " ")
		}
	default:
		r.EventID = "handback-" + stamp
		r.Reason = "marked Unhealthy in the Auto Scaling group: " + ev.Reason
	}
	if !ev.OK {
		r.Status, r.ExitCode = lifecycle.StatusFailed, 1
		r.Reason += ": " + ev.Error
	}
	return r
}

// printAutoHeal adds auto heal's rows to status: each watched service,
// its last check and repairs, the hand-back, drift correction.
func printAutoHeal(row func(k, format string, a ...any), st *heal.Status) {
	if st == nil {
		return
	}
	switch {
	case st.HandedBack:
		row("handed back:", "yes, at %s: %s", st.HandedBackAt.Local().Format(time.DateTime), st.HandedBackReason)
	case st.EscalationError != "":
		row("handed back:", "no: cannot (%s); repairs go on", st.EscalationError)
	default:
		row("handed back:", "no")
	}
	if len(st.Services) == 0 {
		row("watched:", "no service")
	}
	for _, s := range st.Services {
		state := "DOWN"
		if s.Up {
			state = "up"
		}
		check := "not checked yet"
		if s.LastCheck != nil {
			check = "checked " + ago(time.Since(*s.LastCheck).Seconds()) + " ago"
		}
		line := fmt.Sprintf("%s (%s), %s; %d repairs (%d failed), %d in the window", state, s.Detail, check, s.Repairs, s.FailedRepairs, s.RepairsInWindow)
		if r := s.LastRepair; r != nil {
			res := "ok"
			if !r.OK {
				res = "failed: " + oneLine(r.Error, 80)
			}
			line += fmt.Sprintf("; last repair %s ago, %s", ago(time.Since(r.End).Seconds()), res)
		}
		if st.Paused {
			line += " (checks paused: converging)"
		}
		row("watched "+s.Name+":", "%s", line)
	}
	if d := st.Drift; d != nil {
		line := fmt.Sprintf("every %s + up to %s splay", time.Duration(d.IntervalSeconds*float64(time.Second)), time.Duration(d.SplaySeconds*float64(time.Second)))
		if d.NextRun != nil {
			line += ", next at " + d.NextRun.Local().Format(time.DateTime)
		}
		if d.LastRun != nil {
			line += fmt.Sprintf(", last at %s (drift: %t)", d.LastRun.Local().Format(time.DateTime), d.LastChanged)
		}
		row("drift correction:", "%s", line)
	} else {
		row("drift correction:", "off")
	}
}

func writeAttrs(path string, attrs map[string]any, log *slog.Logger) {
	if attrs == nil {
		attrs = map[string]any{}
	}
	b, err := json.Marshal(attrs)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o750)
	}
	if err == nil {
		err = atomicfile.WriteFile(path, b, 0o600)
	}
	if err != nil {
		log.Warn("drift correction: cannot keep the last event's attributes", "error", err)
	}
}

// readAttrs is the last stack event's attributes; none before the first
// (the run then has attributes.d and the config only).
func readAttrs(path string, log *slog.Logger) map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		log.Warn("drift correction: the last event's attributes are unreadable; running without them", "file", path, "error", err)
		return nil
	}
	return m
}
