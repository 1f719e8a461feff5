package telemetry

import (
	"fmt"
	"sync"
	"time"

	"github.com/stackagent/stackagent/internal/heal"
	"github.com/stackagent/stackagent/lifecycle"
)

// Health limits by default. OpsWorks marked an instance failed after about
// five minutes of agent silence; a converge is allowed an hour.
const (
	DefaultPollTimeout   = 5 * time.Minute
	DefaultConvergeLimit = time.Hour
	// DefaultPollWait is the SQS long poll; a receive open for longer than
	// PollWait + stallGrace makes the agent degraded.
	DefaultPollWait = 20 * time.Second
	stallGrace      = 5 * time.Second
)

// Health statuses of HealthReport.Status.
const (
	StatusOK        = "ok"
	StatusDegraded  = "degraded"
	StatusUnhealthy = "unhealthy"
)

// Health tracks what the daemon is doing, to tell a wedged agent from a
// busy one. Its methods are safe for concurrent use.
type Health struct {
	// PollTimeout: unhealthy when, while not converging, no receive has
	// completed for longer (default 5 min).
	PollTimeout time.Duration
	// ConvergeLimit: unhealthy when one converge runs longer (default 1 h).
	ConvergeLimit time.Duration
	// Version is reported as is.
	Version string
	// PollWait is how long one receive may wait for messages (SQS
	// wait_seconds; default 20 s).
	PollWait time.Duration

	now     func() time.Time
	mu      sync.Mutex
	started time.Time
	state   string
	since   time.Time
	current *lifecycle.Event
	// alive is the later of the last completed poll and the end of the
	// last converge: the last time the receive loop was seen turning.
	lastPoll, convergeEnd time.Time
	// pollStart is when the daemon last said it was polling: a receive
	// began.
	pollStart time.Time
	lastErr   string
	lastRun   *lifecycle.Result
	autoHeal  func() *heal.Status
	warnings  []string
}

// SetWarnings records problems the daemon started with anyway (strict
// modes set to warn: paths others can write, world-readable key text);
// the report lists them.
func (h *Health) SetWarnings(w []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.warnings = append([]string(nil), w...)
}

// SetAutoHeal makes the report show auto heal's status (watched services,
// repairs, hand-back), as f returns it.
func (h *Health) SetAutoHeal(f func() *heal.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.autoHeal = f
}

// NewHealth starts tracking at now() (nil: time.Now) in state "starting".
func NewHealth(now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	t := now()
	return &Health{PollTimeout: DefaultPollTimeout, ConvergeLimit: DefaultConvergeLimit, PollWait: DefaultPollWait, now: now,
		started: t, state: StateStarting, since: t}
}

// SetPollWait sets PollWait (the config's wait_seconds) safely while
// reports are served.
func (h *Health) SetPollWait(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.PollWait = d
}

// SetState records the daemon's state and the event it converges (nil
// when not converging), as the daemon tells its state hooks
// (lifecycle.StateHook).
func (h *Health) SetState(state string, ev *lifecycle.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.now()
	if h.state == StateConverging && state != StateConverging {
		h.convergeEnd = t
	}
	if state != h.state || (state == StateConverging && ev != h.current) {
		h.since = t
	}
	if state == StatePolling {
		h.pollStart = t
	}
	h.state = state
	h.current = nil
	if state == StateConverging {
		h.current = ev
	}
}

// Polled records a receive that completed without error.
func (h *Health) Polled() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastPoll, h.lastErr = h.now(), ""
}

// ReceiveFailed records a failed receive.
func (h *Health) ReceiveFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastErr = err.Error()
}

// ObserveResult keeps the last run's result (success or failed; refusals,
// skips and supersessions are not runs).
func (h *Health) ObserveResult(r *lifecycle.Result) {
	if r.Status != lifecycle.StatusSuccess && r.Status != lifecycle.StatusFailed {
		return
	}
	c := *r
	c.Output = ""
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastRun = &c
}

// HealthReport is the /healthz document.
type HealthReport struct {
	Healthy bool `json:"healthy"`
	// Status is ok, degraded (alive, but the event source does not answer:
	// a receive failed or has been open longer than its long poll) or
	// unhealthy.
	Status string `json:"status"`
	Reason string `json:"reason"`
	State  string `json:"state"`
	// StateSince is when the daemon entered State (for converging: when
	// the current event's converge began).
	StateSince   time.Time     `json:"state_since"`
	StateSeconds float64       `json:"state_seconds"`
	CurrentEvent *CurrentEvent `json:"current_event"`
	// LastPoll is when a receive last completed without error (null: none
	// yet); LastPollAgeSeconds how long ago.
	LastPoll           *time.Time `json:"last_poll"`
	LastPollAgeSeconds *float64   `json:"last_poll_age_seconds"`
	LastReceiveError   string     `json:"last_receive_error,omitempty"`
	LastResult         *LastRun   `json:"last_result"`
	PollTimeoutSeconds float64    `json:"poll_timeout_seconds"`
	ConvergeLimitSecs  float64    `json:"converge_limit_seconds"`
	Version            string     `json:"version,omitempty"`
	Now                time.Time  `json:"now"`
	// AutoHeal is the watchdog and drift correction (null: not wired).
	AutoHeal *heal.Status `json:"autoheal,omitempty"`
	// Warnings are security problems the daemon runs with (strict_modes:
	// warn): paths others can write, world-readable key text.
	Warnings []string `json:"warnings,omitempty"`
}

// CurrentEvent is the event being converged.
type CurrentEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	App     string `json:"app,omitempty"`
	Command string `json:"command,omitempty"`
}

// LastRun is the last finished run.
type LastRun struct {
	EventID         string    `json:"event_id"`
	EventType       string    `json:"event_type"`
	Status          string    `json:"status"`
	Reason          string    `json:"reason,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	AgeSeconds      float64   `json:"age_seconds"`
	Updated         int       `json:"resources_updated"`
	Total           int       `json:"resources_total"`
}

// Report is the daemon's health now. Unhealthy: stopped; converging one
// event for longer than ConvergeLimit; or, while not converging, no
// receive completed for longer than PollTimeout (counted from the start,
// the last poll or the end of the last converge, whichever is latest).
// A failed last run does not make the agent unhealthy: it is alive.
func (h *Health) Report() HealthReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	r := HealthReport{State: h.state, StateSince: h.since.UTC(), StateSeconds: secs(now.Sub(h.since)),
		LastReceiveError: h.lastErr, PollTimeoutSeconds: h.PollTimeout.Seconds(),
		ConvergeLimitSecs: h.ConvergeLimit.Seconds(), Version: h.Version, Now: now.UTC()}
	if ev := h.current; ev != nil {
		r.CurrentEvent = &CurrentEvent{ID: ev.ID, Type: ev.Type, App: ev.App, Command: ev.Command}
	}
	if !h.lastPoll.IsZero() {
		t, age := h.lastPoll.UTC(), secs(now.Sub(h.lastPoll))
		r.LastPoll, r.LastPollAgeSeconds = &t, &age
	}
	if lr := h.lastRun; lr != nil {
		r.LastResult = &LastRun{EventID: lr.EventID, EventType: lr.EventType, Status: string(lr.Status), Reason: lr.Reason,
			Start: lr.Start, End: lr.End, DurationSeconds: secs(lr.End.Sub(lr.Start)), AgeSeconds: secs(now.Sub(lr.End)),
			Updated: lr.Updated, Total: lr.Total}
	}
	r.Healthy, r.Reason = h.judge(now)
	r.Status = StatusOK
	switch {
	case !r.Healthy:
		r.Status = StatusUnhealthy
	case h.degraded(now) != "":
		r.Status, r.Reason = StatusDegraded, h.degraded(now)
	}
	r.Warnings = h.warnings
	if h.autoHeal != nil {
		r.AutoHeal = h.autoHeal()
	}
	return r
}

func (h *Health) judge(now time.Time) (bool, string) {
	switch h.state {
	case StateStopped:
		return false, "the daemon has stopped"
	case StateConverging:
		d := now.Sub(h.since)
		what := "an event"
		if h.current != nil {
			what = fmt.Sprintf("%s %s", h.current.Type, h.current.ID)
		}
		if h.ConvergeLimit > 0 && d > h.ConvergeLimit {
			return false, fmt.Sprintf("converging %s for %s, longer than the %s limit", what, round(d), h.ConvergeLimit)
		}
		return true, fmt.Sprintf("converging %s for %s", what, round(d))
	}
	alive, from := h.started, "the start"
	if h.lastPoll.After(alive) {
		alive, from = h.lastPoll, "the last poll"
	}
	if h.convergeEnd.After(alive) {
		alive, from = h.convergeEnd, "the last converge"
	}
	quiet := now.Sub(alive)
	if h.PollTimeout > 0 && quiet > h.PollTimeout {
		msg := fmt.Sprintf("no receive completed for %s since %s (limit %s)", round(quiet), from, h.PollTimeout)
		if h.lastErr != "" {
			msg += "; last receive error: " + h.lastErr
		}
		return false, msg
	}
	if h.state == StateBackingOff {
		return true, "backing off after a failed receive: " + h.lastErr
	}
	return true, h.state
}

// degraded says why the agent is alive but not receiving: backing off
// after a failed receive, or a receive open for longer than its long poll
// could take (a stalled connection); "" when neither.
func (h *Health) degraded(now time.Time) string {
	switch h.state {
	case StateBackingOff:
		return "degraded: backing off after a failed receive: " + h.lastErr
	case StatePolling:
	default:
		return ""
	}
	open := h.pollStart
	for _, t := range []time.Time{h.lastPoll, h.convergeEnd, h.since} {
		if t.After(open) {
			open = t
		}
	}
	wait := h.PollWait
	if wait <= 0 {
		wait = DefaultPollWait
	}
	if d := now.Sub(open); d > wait+stallGrace {
		return fmt.Sprintf("degraded: a receive has had no answer for %s (a long poll ends within %s): the connection to the event source may have stalled",
			round(d), wait)
	}
	return ""
}

func secs(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
