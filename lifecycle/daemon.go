package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

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
	// Hooks are told, in this order, the daemon's state and every
	// result (hooks.go): reply, lifecycle-hook completion, metrics, …
	Hooks []Hook
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
}

func (d *Daemon) inProgressPath() string { return filepath.Join(d.StateDir, "in-progress.json") }

// Run serves until ctx is done. Cancelling ctx is the graceful stop
// (SIGTERM): no new message is taken, the running converge ends after its
// current resource and its event is handed back for redelivery.
func (d *Daemon) Run(ctx context.Context) error {
	d.defaults()
	defer d.state(StateStopped, nil)
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
	d.watchDrain(rctx, rcancel)
	for rctx.Err() == nil {
		select {
		case ev := <-d.Periodic:
			d.process(ctx, nil, ev)
			continue
		default:
		}
		if !d.receive(ctx, rctx) {
			break
		}
		if d.restart {
			return ErrRestart
		}
	}
	return nil
}

// watchDrain ends receiving (rcancel) when Drain is closed.
func (d *Daemon) watchDrain(rctx context.Context, rcancel func()) {
	if d.Drain == nil {
		return
	}
	go func() {
		select {
		case <-d.Drain:
			rcancel()
		case <-rctx.Done():
		}
	}()
}

// receive takes one receive's messages and serves them; false when the
// loop must end (stopping, or draining).
func (d *Daemon) receive(ctx, rctx context.Context) bool {
	d.state(StatePolling, nil)
	msgs, err := d.Source.Receive(rctx)
	if err != nil {
		if rctx.Err() != nil {
			return false
		}
		d.backOff(rctx, err)
		return true
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
		return false
	}
	d.serve(ctx, rctx, msgs)
	return true
}

// backOff waits after a failed receive.
func (d *Daemon) backOff(rctx context.Context, err error) {
	wait := d.Backoff.Next()
	d.state(StateBackingOff, nil)
	msg := "receive failed; backing off"
	if errors.Is(err, ErrStalled) {
		msg = "receive stalled: the event source did not answer within the deadline; backing off"
	}
	d.Log.Warn(msg, "error", err, "retry_in", wait.Round(time.Millisecond), "failures", d.Backoff.Failures())
	select {
	case <-rctx.Done():
	case <-time.After(wait):
	}
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
		d.resulted(ctx, nil, &Result{EventID: m.ID, InstanceID: d.Identity.InstanceID, Status: StatusRefused, Reason: err.Error(), ExitCode: 1})
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
	if !d.recordStart(ctx, m, ev, ip) {
		return
	}
	d.state(StateConverging, ev)
	stopBeats := d.heartbeats(ctx, m, ev)
	out := d.run(ctx, ev)
	stopBeats()
	if d.handBack(m, ev, ip, out) {
		return
	}
	d.settle(ctx, m, ev, out, start)
}

// recordStart writes the in-progress record; on failure (a full state
// dir) it waits, 1 s doubling to 30 s, and hands the message back, so the
// same message does not come straight back and spin.
func (d *Daemon) recordStart(ctx context.Context, m *Message, ev *Event, ip *InProgress) bool {
	if err := SaveInProgress(d.inProgressPath(), ip); err != nil {
		d.recordFailures++
		wait := min(time.Second<<min(d.recordFailures-1, 5), 30*time.Second)
		d.Log.Error("cannot record the in-progress event; not running it", "event", ShortID(ev.ID), "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		d.release(m)
		return false
	}
	d.recordFailures = 0
	return true
}

// handBack releases an event that did not end here: an upgrade that
// restarts the agent, or a stop. The in-progress record stays so the next
// start runs the event again.
func (d *Daemon) handBack(m *Message, ev *Event, ip *InProgress, out *Outcome) bool {
	switch out.Status {
	case statusRestart:
		d.Log.Warn("restarting the agent to finish the event", "event", ShortID(ev.ID), "detail", out.Output)
		d.release(m)
		ip.Attempts--
		SaveInProgress(d.inProgressPath(), ip)
		d.restart = true
		return true
	case StatusInterrupted:
		d.Log.Warn("stopped before the event finished; handing it back for redelivery", "event", ShortID(ev.ID))
		d.release(m)
		// The attempt counts toward MaxAttempts like a crash: a recipe
		// that restarts the agent must not loop forever.
		ip.Interrupted++
		if err := SaveInProgress(d.inProgressPath(), ip); err != nil {
			d.Log.Error("recording the interruption", "event", ShortID(ev.ID), "error", err)
		}
		return true
	}
	return false
}

// settle turns a finished run into its result and finishes the event.
func (d *Daemon) settle(ctx context.Context, m *Message, ev *Event, out *Outcome, start time.Time) {
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
