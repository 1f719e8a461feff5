package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/jsontree"
)

// Job is one converge the daemon asks for.
type Job struct {
	Event   *Event
	RunList []string
	// Attributes are merged at normal level for the run (the event's stack
	// configuration and what the run is: stackagent.event, …).
	Attributes map[string]any
	// Interrupt is closed when the daemon is asked to stop: the converge
	// ends before its next resource, leaving the event for redelivery.
	Interrupt <-chan struct{}
}

// Outcome is how a converge ended.
type Outcome struct {
	// Status is StatusSuccess, StatusFailed or "interrupted".
	Status   string
	ExitCode int
	Updated  int
	Total    int
	// Output is the run's output (the daemon keeps its last 2 KiB); the
	// converger redacts sensitive values.
	Output string
	Err    error
	// RunList is what ran (filled in by the daemon).
	RunList []string
}

// StatusInterrupted is an Outcome cut short by the daemon's stop.
const StatusInterrupted = "interrupted"

// ErrRestart is returned by Daemon.Run when the agent must restart itself
// (after upgrade_agent installed a new version); by Upgrade to ask for it.
var ErrRestart = errors.New("agent restart requested")

// Converger runs jobs; the agent wires the recipes engine (and the
// host-wide converge lock) behind it.
type Converger interface {
	Converge(ctx context.Context, job *Job) *Outcome
}

// Rejecter is a Source that sets aside a message that is not an event
// (the inbox moves it to failed/). SQS has no Reject: such a message is
// left for the queue's redrive policy.
type Rejecter interface {
	Reject(ctx context.Context, m *Message, reason string) error
}

// ResultRecorder is a Source that keeps the result with the message (the
// inbox writes processed/NAME.result.json).
type ResultRecorder interface {
	RecordResult(m *Message, r *Result) error
}

// HookCompleter completes Auto Scaling lifecycle actions.
type HookCompleter interface {
	Complete(ctx context.Context, hook *LifecycleHook, result string) error
	Heartbeat(ctx context.Context, hook *LifecycleHook) error
}

// Daemon turns messages of a Source into converges, once in effect.
type Daemon struct {
	Source    Source
	Identity  Identity
	Converger Converger
	Journal   *Journal
	Results   *ResultStore
	// StateDir holds the in-progress record, the boot id and the setup
	// marker.
	StateDir string
	Reporter Reporter      // optional: reply queue or topic
	Hooks    HookCompleter // optional: Auto Scaling
	// BaseAttributes returns the attributes the run list is built from
	// (built-in layer definitions, attributes.d, config), before the
	// event's own are merged over them.
	BaseAttributes func() map[string]any
	// FetchCookbooks runs update_custom_cookbooks.
	FetchCookbooks func(ctx context.Context, ev *Event) (string, error)
	// Upgrade runs upgrade_agent: it installs ev.Version and returns
	// ErrRestart when the agent must restart to run it (the event is kept
	// in progress and finished by the new agent, whose Upgrade then sees
	// the version already running and succeeds).
	Upgrade func(ctx context.Context, ev *Event) (string, error)
	Log     *slog.Logger
	Now     func() time.Time
	Backoff *Backoff
	// VisibilityExtend is how long each heartbeat keeps an SQS message
	// invisible; HeartbeatEvery how often (default 60 s and 20 s).
	VisibilityExtend, HeartbeatEvery time.Duration
	// HookHeartbeatEvery: RecordLifecycleActionHeartbeat during long runs
	// (default 10 min).
	HookHeartbeatEvery time.Duration
	// BootSetup runs setup on the first start after boot when setup has
	// never succeeded on this host.
	BootSetup bool
	// BootHook, when set, is the Auto Scaling launch hook the boot setup
	// completes (by instance id: its notification goes out before the
	// instance's own queue exists, so the agent never receives it).
	BootHook *LifecycleHook
	// BootIDFile is /proc/sys/kernel/random/boot_id unless set.
	BootIDFile string
	// MaxAttempts bounds runs of one event after crashes (default 3).
	MaxAttempts int
	// OnState is told what the daemon is doing: "polling", "converging",
	// "backing-off", "stopped" (for health and metrics).
	OnState func(state string, ev *Event)
	// OnResult is told every result (for metrics).
	OnResult func(r *Result)
	// Drain, when closed, makes Run return once the event being converged
	// (if any) has finished, without interrupting it (a config reload).
	Drain <-chan struct{}
	// Periodic, when set, hands the loop events of the agent's own (drift
	// correction: configure events of envelope EnvelopeDrift). Each is run
	// between receives like a received event, without a message: never
	// while another converge runs.
	Periodic <-chan *Event

	// Applied is the watermark store of the ordering rule (watermark.go);
	// nil: StateDir/applied.json.
	Applied *Watermarks
	// ConfigureSettle, when set, makes a configure wait until no event
	// came for that long (storm.go); DrainMax and DrainFor bound one drain
	// of the source (default 500 messages, 10 s).
	ConfigureSettle time.Duration
	DrainMax        int
	DrainFor        time.Duration
	// DrainConfirm, without ConfigureSettle, is the wait of one last
	// receive before a configure (SQS: 1 s, since an empty short receive
	// does not prove the queue empty); 0: none.
	DrainConfirm time.Duration
	// CallTimeout bounds each call to the reply target and the Auto
	// Scaling API (default 10 s).
	CallTimeout time.Duration

	restart bool // an upgrade asked for a restart
	// recordFailures counts in-progress records that could not be written
	// in a row (a full state dir), for the wait before the next try.
	recordFailures int
}

const statusRestart = "restart"

// EnvelopeDrift is the envelope of the daemon's own periodic configure
// events (drift correction).
const EnvelopeDrift = "drift"

func (d *Daemon) defaults() {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Backoff == nil {
		d.Backoff = NewBackoff()
	}
	if d.VisibilityExtend <= 0 {
		d.VisibilityExtend = 60 * time.Second
	}
	if d.HeartbeatEvery <= 0 {
		d.HeartbeatEvery = d.VisibilityExtend / 3
	}
	if d.HookHeartbeatEvery <= 0 {
		d.HookHeartbeatEvery = 10 * time.Minute
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 3
	}
	if d.BootIDFile == "" {
		d.BootIDFile = "/proc/sys/kernel/random/boot_id"
	}
	if d.BaseAttributes == nil {
		d.BaseAttributes = DefaultLayers
	}
	if d.OnState == nil {
		d.OnState = func(string, *Event) {}
	}
	if d.DrainMax <= 0 {
		d.DrainMax = DefaultDrainMax
	}
	if d.DrainFor <= 0 {
		d.DrainFor = DefaultDrainFor
	}
	if d.CallTimeout <= 0 {
		d.CallTimeout = 10 * time.Second
	}
	if d.Applied == nil {
		w, err := OpenWatermarks(filepath.Join(d.StateDir, WatermarkFile))
		if err != nil {
			d.Log.Error("reading the applied-event watermarks", "error", err)
		}
		d.Applied = w
	}
	if d.OnResult == nil {
		d.OnResult = func(*Result) {}
	}
}

func (d *Daemon) inProgressPath() string { return filepath.Join(d.StateDir, "in-progress.json") }

// Run serves until ctx is done. Cancelling ctx is the graceful stop
// (SIGTERM): no new message is taken, the running converge ends after its
// current resource and its event is handed back for redelivery.
func (d *Daemon) Run(ctx context.Context) error {
	d.defaults()
	defer d.OnState("stopped", nil)
	if err := d.recover(ctx); err != nil {
		d.Log.Error("recovering the in-progress event", "error", err)
	}
	if d.restart {
		return ErrRestart
	}
	if d.BootSetup {
		d.bootSetup(ctx)
	}
	// Receiving stops on a drain as on a stop; converging stops only on a
	// stop (ctx).
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	if d.Drain != nil {
		go func() {
			select {
			case <-d.Drain:
				rcancel()
			case <-rctx.Done():
			}
		}()
	}
	for rctx.Err() == nil {
		select {
		case ev := <-d.Periodic:
			d.process(ctx, nil, ev)
			continue
		default:
		}
		d.OnState("polling", nil)
		msgs, err := d.Source.Receive(rctx)
		if err != nil {
			if rctx.Err() != nil {
				break
			}
			wait := d.Backoff.Next()
			d.OnState("backing-off", nil)
			msg := "receive failed; backing off"
			if errors.Is(err, ErrStalled) {
				msg = "receive stalled: the event source did not answer within the deadline; backing off"
			}
			d.Log.Warn(msg, "error", err, "retry_in", wait.Round(time.Millisecond), "failures", d.Backoff.Failures())
			select {
			case <-rctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		if d.Backoff.Failures() > 0 {
			d.Log.Info("receiving again", "after_failures", d.Backoff.Failures())
		}
		d.Backoff.Reset()
		if rctx.Err() != nil && ctx.Err() == nil {
			// Draining: hand back what arrived, untouched.
			for _, m := range msgs {
				d.release(m)
			}
			break
		}
		d.serve(ctx, rctx, msgs)
		if d.restart {
			return ErrRestart
		}
	}
	return nil
}

// triage parses a message and settles every case that needs no converge.
func (d *Daemon) triage(ctx context.Context, m *Message) (pending, bool) {
	ev, err := Parse(m.Body, d.Now())
	var pe *ParseError
	errors.As(err, &pe)
	switch {
	case errors.Is(err, ErrTestNotification):
		d.Log.Info("auto scaling test notification acknowledged", "message", m.ID)
		d.delete(ctx, m)
		return pending{}, false
	case errors.Is(err, ErrMalformed):
		if rj, ok := d.Source.(Rejecter); ok {
			d.Log.Error("message is not an event; set aside", "message", m.ID, "reason", err.Error())
			rj.Reject(ctx, m, err.Error())
		} else {
			d.Log.Error("message is not an event; leaving it for the queue's redrive policy (dead-letter queue)",
				"message", m.ID, "receive_count", m.ReceiveCount, "reason", err.Error())
		}
		d.OnResult(&Result{EventID: m.ID, InstanceID: d.Identity.InstanceID, Status: StatusRefused, Reason: err.Error(), ExitCode: 1})
		return pending{}, false
	case err != nil:
		ref := &Event{ID: m.ID}
		if pe != nil && pe.ID != "" {
			ref.ID = pe.ID
		}
		ref.Type = refusedType(m.Body)
		d.Log.Error("event refused", "event", ShortID(ref.ID), "message", m.ID, "reason", err.Error())
		d.finish(ctx, m, ref, d.result(ref, StatusRefused, err.Error(), &Outcome{ExitCode: 1}, d.Now()))
		return pending{}, false
	}
	if e, done := d.Journal.Done(ev.ID); done {
		d.Log.Info("duplicate delivery of a processed event; deleted without a run", "event", ShortID(ev.ID), "status", e.Status, "processed_at", e.At)
		// An event run again at start-up after a crash had no message to
		// keep its result with: give it to this delivery.
		if rr, ok := d.Source.(ResultRecorder); ok && d.Results != nil {
			if r := d.Results.Find(ev.ID); r != nil {
				rr.RecordResult(m, r)
			}
		}
		d.delete(ctx, m)
		return pending{}, false
	}
	if ok, reason := ev.Targets(d.Identity); !ok {
		d.Log.Info("event is not for this instance; skipped", "event", ShortID(ev.ID), "reason", reason)
		d.finish(ctx, m, ev, d.result(ev, StatusSkipped, reason, nil, d.Now()))
		return pending{}, false
	}
	return pending{m: m, ev: ev}, true
}

// process runs one event to its end and settles it.
func (d *Daemon) process(ctx context.Context, m *Message, ev *Event) {
	start := d.Now()
	ip := d.inProgress(ev, m, start)
	if err := SaveInProgress(d.inProgressPath(), ip); err != nil {
		// A full state dir: wait before handing the message back, 1 s
		// doubling to 30 s, so the same message does not come straight
		// back and spin.
		d.recordFailures++
		wait := min(time.Second<<min(d.recordFailures-1, 5), 30*time.Second)
		d.Log.Error("cannot record the in-progress event; not running it", "event", ShortID(ev.ID), "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		d.release(m)
		return
	}
	d.recordFailures = 0
	d.OnState("converging", ev)
	stopBeats := d.heartbeats(ctx, m, ev)
	out := d.run(ctx, ev)
	stopBeats()
	if out.Status == statusRestart {
		d.Log.Warn("restarting the agent to finish the event", "event", ShortID(ev.ID), "detail", out.Output)
		d.release(m)
		ip.Attempts--
		SaveInProgress(d.inProgressPath(), ip)
		d.restart = true
		return
	}
	if out.Status == StatusInterrupted {
		d.Log.Warn("stopped before the event finished; handing it back for redelivery", "event", ShortID(ev.ID))
		d.release(m)
		// The in-progress record stays so the next start runs the event
		// again. The attempt counts toward MaxAttempts like a crash: a
		// recipe that restarts the agent must not loop forever.
		ip.Interrupted++
		if err := SaveInProgress(d.inProgressPath(), ip); err != nil {
			d.Log.Error("recording the interruption", "event", ShortID(ev.ID), "error", err)
		}
		return
	}
	res := d.result(ev, out.Status, "", out, start)
	if out.Err != nil && out.Status != StatusSuccess {
		res.Reason = out.Err.Error()
	}
	if ev.Envelope == EnvelopeDrift {
		res.Periodic = true
		res.Drift = out.Updated > 0
		if res.Drift && res.Reason == "" {
			res.Reason = fmt.Sprintf("drift: %d of %d resources were not as the cookbooks declare them and were put back", out.Updated, out.Total)
		}
	}
	if out.Status == StatusSuccess || out.Status == StatusFailed {
		if err := d.Applied.Advance(ev, d.Now()); err != nil {
			d.Log.Error("recording the applied event", "event", ShortID(ev.ID), "error", err)
		}
	}
	d.finish(ctx, m, ev, res)
	if ev.Type == TypeSetup && out.Status == StatusSuccess {
		if err := atomicfile.WriteFile(filepath.Join(d.StateDir, "setup.succeeded"), []byte(d.Now().UTC().Format(time.RFC3339)+"\n"), 0o640); err != nil {
			d.Log.Error("recording that setup succeeded", "error", err)
		}
	}
}

// run builds the run list and converges, or fetches custom cookbooks.
func (d *Daemon) run(ctx context.Context, ev *Event) *Outcome {
	if ev.Type == TypeUpgradeAgent {
		if d.Upgrade == nil {
			return &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("upgrade_agent: this agent cannot upgrade itself")}
		}
		msg, err := d.Upgrade(context.WithoutCancel(ctx), ev)
		switch {
		case errors.Is(err, ErrRestart):
			return &Outcome{Status: statusRestart, Output: msg}
		case err != nil:
			return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: msg + "\n" + err.Error()}
		}
		return &Outcome{Status: StatusSuccess, Output: msg}
	}
	if ev.Type == TypeUpdateCustomCookbooks {
		if d.FetchCookbooks == nil {
			return &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("update_custom_cookbooks: no custom cookbook source configured")}
		}
		msg, err := d.FetchCookbooks(context.WithoutCancel(ctx), ev)
		if err != nil {
			return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: err.Error()}
		}
		return &Outcome{Status: StatusSuccess, Output: msg}
	}
	out := d.converge(ctx, ev)
	if out.Status != StatusSuccess || ev.Type != TypeSetup || !bringsOnline(ev) {
		return out
	}
	// An instance coming online (Auto Scaling launch, first boot) deploys
	// the stack's apps after setup, as OpsWorks did, before it reports.
	dep := *ev
	dep.Type, dep.App, dep.Command = TypeDeploy, "", CommandDeploy
	more := d.converge(ctx, &dep)
	more.RunList = append(append([]string{}, out.RunList...), more.RunList...)
	more.Updated += out.Updated
	more.Total += out.Total
	more.Output = out.Output + "\n" + more.Output
	return more
}

// bringsOnline tells whether a setup event is an instance coming online.
func bringsOnline(ev *Event) bool {
	return (ev.Hook != nil && ev.Hook.Transition == TransitionLaunching) || ev.Envelope == "boot"
}

// converge builds the event's run list and converges it.
func (d *Daemon) converge(ctx context.Context, ev *Event) *Outcome {
	attrs := d.BaseAttributes()
	jsontree.Merge(attrs, ev.Attributes)
	runList, err := RunList(ev, attrs, d.Identity.Layers)
	if err != nil && !errors.Is(err, ErrNoRunList) {
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: err.Error()}
	}
	if len(runList) == 0 {
		return &Outcome{Status: StatusSuccess, Output: "nothing to run: the run list for " + ev.Type + " is empty"}
	}
	job := &Job{Event: ev, RunList: runList, Attributes: ev.NodeAttributes(d.Identity), Interrupt: ctx.Done()}
	// The converge itself is not cancelled by the stop: Interrupt ends it
	// between resources, so the running resource finishes.
	out := d.Converger.Converge(context.WithoutCancel(ctx), job)
	if out == nil {
		out = &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("converger returned nothing")}
	}
	out.RunList = runList
	return out
}

func (d *Daemon) result(ev *Event, status, reason string, out *Outcome, start time.Time) *Result {
	r := &Result{EventID: ev.ID, EventType: ev.Type, App: ev.App, Command: ev.Command, InstanceID: d.Identity.InstanceID,
		Stack: d.Identity.Stack, Status: status, Reason: reason, Start: start.UTC(), End: d.Now().UTC()}
	if out != nil {
		r.ExitCode, r.Updated, r.Total, r.Output = out.ExitCode, out.Updated, out.Total, Tail(out.Output, 2048)
		r.RunList = out.RunList
	}
	return r
}

// finish settles an event: the result is kept locally, reported, the
// lifecycle hook completed, the id journaled, the in-progress record
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
	if d.Reporter != nil && Reportable(ev, r) {
		rctx, cancel := context.WithTimeout(ctx, d.CallTimeout)
		err := d.Reporter.Report(rctx, r)
		cancel()
		if err != nil {
			d.Log.Error("reporting the result", "event", ShortID(ev.ID), "error", err)
		}
	}
	if ev.Hook != nil && d.Hooks != nil && (r.Status == StatusSuccess || r.Status == StatusFailed) {
		hctx, cancel := context.WithTimeout(ctx, d.CallTimeout)
		err := d.Hooks.Complete(hctx, ev.Hook, HookResult(r))
		cancel()
		if err != nil {
			d.Log.Error("completing the lifecycle action", "event", ShortID(ev.ID), "error", err)
		}
	}
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
	d.OnResult(r)
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
