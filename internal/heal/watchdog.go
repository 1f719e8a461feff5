package heal

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Watchdog defaults.
const (
	DefaultInterval     = 5 * time.Second
	DefaultRepairMax    = 3
	DefaultRepairWindow = 10 * time.Minute
	DefaultBackoffMax   = 5 * time.Minute
)

// Event is a repair or the hand-back, for the log's reader elsewhere: the
// agent reports it like a run's result.
type Event struct {
	// Kind is "repair" or "handback".
	Kind    string `json:"kind"`
	Service string `json:"service,omitempty"`
	OK      bool   `json:"ok"`
	// Reason: why the service was repaired (what the check saw), why the
	// instance was handed back, or why it could not be.
	Reason string `json:"reason"`
	// Error is why a repair or the hand-back failed.
	Error   string    `json:"error,omitempty"`
	Output  string    `json:"output,omitempty"`
	Command []string  `json:"command,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// HandBack is the instance's hand-back to its Auto Scaling group.
type HandBack struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Watchdog checks the watched services every Interval and restarts a dead
// one; see the package doc and docs/autoheal.md.
type Watchdog struct {
	// Interval between checks (default 5 s).
	Interval time.Duration
	// RepairMax failed repairs within RepairWindow escalate (defaults 3
	// and 10 min), when Escalate is set.
	RepairMax    int
	RepairWindow time.Duration
	Escalate     bool
	// BackoffMax caps the wait between repairs of a service that keeps
	// dying (default 5 min).
	BackoffMax time.Duration

	InstanceID string
	Prober     Prober
	Repairer   Repairer
	// Healther hands the instance back (nil: AWS not configured).
	Healther Healther
	// Lock, when set, takes the host's converge lock without waiting; a
	// repair is put off while another converge holds it.
	Lock func() (release func(), holder string, ok bool)
	// StateFile keeps the watched services and the hand-back across
	// restarts (optional).
	StateFile string
	Log       *slog.Logger
	Now       func() time.Time
	Metrics   *Metrics
	// OnEvent is told each repair and hand-back (reporting).
	OnEvent func(Event)

	mu         sync.Mutex
	svcs       map[string]*watched
	paused     bool
	handedBack *HandBack
	escalation string // why the hand-back failed (said once)
	client     *http.Client
	loaded     bool
}

type watched struct {
	spec      Service
	up        bool
	checked   bool
	detail    string
	lastCheck time.Time
	httpFails map[string]int
	// attempts and failures are the repair start times within the window.
	attempts, failures []time.Time
	repairs, failed    int
	nextRepair         time.Time
	last               *Event
}

func (w *Watchdog) defaults() {
	if w.Interval <= 0 {
		w.Interval = DefaultInterval
	}
	if w.RepairMax <= 0 {
		w.RepairMax = DefaultRepairMax
	}
	if w.RepairWindow <= 0 {
		w.RepairWindow = DefaultRepairWindow
	}
	if w.BackoffMax <= 0 {
		w.BackoffMax = DefaultBackoffMax
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Prober == nil {
		w.Prober = InitProber{Systemd: UsesSystemd()}
	}
	if w.Repairer == nil {
		w.Repairer = InitRepairer{Systemd: UsesSystemd()}
	}
	if w.OnEvent == nil {
		w.OnEvent = func(Event) {}
	}
	if w.svcs == nil {
		w.svcs = map[string]*watched{}
	}
	if w.client == nil {
		w.client = newHTTPClient()
	}
}

// Update applies what a converge declared: services added or changed,
// services no longer watched.
func (w *Watchdog) Update(ws Watches) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defaults()
	changed := false
	for _, s := range ws.Services {
		cur, ok := w.svcs[s.Name]
		if !ok {
			w.svcs[s.Name] = &watched{spec: s, httpFails: map[string]int{}}
			w.Log.Info("watchdog: watching service", "service", s.Name, "pidfile", s.PIDFile, "http_checks", len(s.HTTP))
			changed = true
			continue
		}
		if !equalJSON(cur.spec, s) {
			cur.spec = s
			cur.httpFails = map[string]int{}
			changed = true
		}
	}
	for _, name := range ws.Removed {
		if _, ok := w.svcs[name]; ok {
			delete(w.svcs, name)
			w.Metrics.unwatched(name)
			w.Log.Info("watchdog: no longer watching service", "service", name)
			changed = true
		}
	}
	if changed {
		w.save()
	}
}

// Clear stops watching every service (the instance shuts down: its
// services are stopped on purpose).
func (w *Watchdog) Clear(why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defaults()
	if len(w.svcs) == 0 {
		return
	}
	for name := range w.svcs {
		w.Metrics.unwatched(name)
	}
	w.svcs = map[string]*watched{}
	w.Log.Info("watchdog: no longer watching any service", "why", why)
	w.save()
}

// Pause stops checks and repairs while a converge runs (it may stop or
// restart services on purpose); Pause(false) resumes them.
func (w *Watchdog) Pause(on bool) {
	w.mu.Lock()
	w.paused = on
	w.mu.Unlock()
}

// Run checks every Interval until ctx is done.
func (w *Watchdog) Run(ctx context.Context) {
	w.mu.Lock()
	w.defaults()
	loaded := w.loaded
	w.mu.Unlock()
	if !loaded {
		if err := w.Load(); err != nil {
			w.Log.Warn("watchdog: cannot read its state; starting afresh", "error", err)
		}
	}
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Step(ctx)
		}
	}
}

// Step checks every watched service once and repairs those that are down
// (Run calls it every Interval).
func (w *Watchdog) Step(ctx context.Context) {
	w.mu.Lock()
	w.defaults()
	if w.paused {
		w.mu.Unlock()
		return
	}
	todo := make([]*watched, 0, len(w.svcs))
	for _, n := range w.names() {
		todo = append(todo, w.svcs[n])
	}
	w.mu.Unlock()
	for _, s := range todo {
		if ctx.Err() != nil {
			return
		}
		w.checkOne(ctx, s)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
