package heal

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/procstatus"
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

// persisted is the state file.
type persisted struct {
	Services   []Service `json:"services"`
	HandedBack *HandBack `json:"handed_back,omitempty"`
}

// Load reads the state file, if any: the services watched before a
// restart, and whether the instance was handed back.
func (w *Watchdog) Load() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defaults()
	w.loaded = true
	if w.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(w.StateFile)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("%s: %w", w.StateFile, err)
	}
	for _, s := range p.Services {
		w.svcs[s.Name] = &watched{spec: s, httpFails: map[string]int{}}
	}
	w.handedBack = p.HandedBack
	w.Metrics.handBack(p.HandedBack != nil)
	return nil
}

// save writes the state file. Callers hold w.mu.
func (w *Watchdog) save() {
	if w.StateFile == "" {
		return
	}
	p := persisted{Services: []Service{}, HandedBack: w.handedBack}
	for _, name := range w.names() {
		p.Services = append(p.Services, w.svcs[name].spec)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err == nil {
		err = os.MkdirAll(filepath.Dir(w.StateFile), 0o750)
	}
	if err == nil {
		err = atomicfile.WriteFile(w.StateFile, append(b, '\n'), 0o640)
	}
	if err != nil {
		w.Log.Warn("watchdog: saving its state", "error", err)
	}
}

func (w *Watchdog) names() []string {
	out := make([]string, 0, len(w.svcs))
	for n := range w.svcs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
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

// check runs the process check, then the web checks, and reports whether
// the service needs a repair.
func (w *Watchdog) check(ctx context.Context, s *watched) (bool, string) {
	up, detail := w.Prober.Alive(ctx, &s.spec)
	if !up {
		return false, detail
	}
	for i := range s.spec.HTTP {
		c := &s.spec.HTTP[i]
		err := checkHTTP(ctx, w.client, c)
		w.mu.Lock()
		if err == nil {
			s.httpFails[c.Name] = 0
			w.mu.Unlock()
			continue
		}
		s.httpFails[c.Name]++
		n := s.httpFails[c.Name]
		w.mu.Unlock()
		if n >= c.Failures {
			return false, fmt.Sprintf("web check %s failed %d times in a row: %v", c.Name, n, err)
		}
		w.Log.Warn("watchdog: web check failed", "service", s.spec.Name, "check", c.Name, "failures", n, "repair_at", c.Failures, "error", err)
	}
	return true, detail
}

func (w *Watchdog) checkOne(ctx context.Context, s *watched) {
	up, detail := w.check(ctx, s)
	now := w.Now()
	w.mu.Lock()
	if w.svcs[s.spec.Name] != s {
		w.mu.Unlock()
		return // unwatched meanwhile
	}
	wasUp, seen := s.up, s.checked
	s.up, s.checked, s.detail, s.lastCheck = up, true, detail, now
	handedBack, paused := w.handedBack != nil, w.paused
	wait := s.nextRepair.Sub(now)
	w.mu.Unlock()
	w.Metrics.checked(s.spec.Name, up)
	if up {
		if seen && !wasUp {
			w.Log.Info("watchdog: service is up again", "service", s.spec.Name, "detail", detail)
		}
		return
	}
	switch {
	case paused:
		return
	case handedBack:
		if !seen || wasUp {
			w.Log.Warn("watchdog: service is down; not repairing: the instance was handed back to its Auto Scaling group", "service", s.spec.Name, "detail", detail)
		}
		return
	case wait > 0:
		w.Log.Info("watchdog: service is down; backing off before the next repair", "service", s.spec.Name, "detail", detail, "retry_in", wait.Round(time.Second))
		return
	}
	w.repair(ctx, s, detail)
}

// repair restarts s, waits for it to be up, and records the attempt.
func (w *Watchdog) repair(ctx context.Context, s *watched, why string) {
	if w.Lock != nil {
		release, holder, ok := w.Lock()
		if !ok {
			w.Log.Info("watchdog: service is down; repair put off while a converge holds the lock", "service", s.spec.Name, "holder", holder, "detail", why)
			return
		}
		defer release()
	}
	start := w.Now()
	w.Log.Warn("watchdog: service is down; restarting it", "service", s.spec.Name, "detail", why)
	ev := Event{Kind: "repair", Service: s.spec.Name, Reason: why, Start: start.UTC()}
	if ir, ok := w.Repairer.(InitRepairer); ok {
		ev.Command = ir.Command(&s.spec)
	}
	if s.spec.PIDFile != "" {
		// A killed main process is a zombie until its parent reaps it;
		// the init script would take it for a running server.
		waitReaped(ctx, s.spec.PIDFile, 3*time.Second)
	}
	out, err := w.Repairer.Restart(ctx, &s.spec)
	ev.Output = tail(out, 2048)
	if err == nil {
		err = w.waitUp(ctx, s)
	}
	end := w.Now()
	ev.End, ev.OK = end.UTC(), err == nil
	if err != nil {
		ev.Error = err.Error()
	}
	w.mu.Lock()
	cut := end.Add(-w.RepairWindow)
	s.attempts = append(within(s.attempts, cut), start)
	s.repairs++
	if err != nil {
		s.failures = append(within(s.failures, cut), start)
		s.failed++
	}
	s.nextRepair = end.Add(Backoff(len(s.attempts), w.Interval, w.BackoffMax))
	s.last = &ev
	failures, attempts := len(s.failures), len(s.attempts)
	escalate := err != nil && w.Escalate && failures >= w.RepairMax && w.handedBack == nil && w.escalation == ""
	if err == nil {
		s.up = true
	}
	w.mu.Unlock()
	w.Metrics.repaired(s.spec.Name, err == nil)
	if err == nil {
		w.Metrics.checked(s.spec.Name, true)
	}
	if err != nil {
		w.Log.Error("watchdog: repair failed", "service", s.spec.Name, "error", err, "output", oneLine(out),
			"failed_repairs_in_window", failures, "repair_max", w.RepairMax, "window", w.RepairWindow)
	} else {
		w.Log.Warn("watchdog: service repaired", "service", s.spec.Name, "was", why, "seconds", end.Sub(start).Seconds(), "repairs_in_window", attempts)
	}
	w.OnEvent(ev)
	if escalate {
		w.escalate(ctx, fmt.Sprintf("service %s: %d repairs failed within %s (last: %s; %s)", s.spec.Name, failures, w.RepairWindow, why, ev.Error))
	}
}

// waitUp polls the process check (and the web checks, once each) until
// the service is up or its start timeout passes.
func (w *Watchdog) waitUp(ctx context.Context, s *watched) error {
	deadline := time.Now().Add(s.spec.startTimeout())
	var detail string
	for {
		up, d := w.Prober.Alive(ctx, &s.spec)
		detail = d
		if up {
			var err error
			for i := range s.spec.HTTP {
				if err = checkHTTP(ctx, w.client, &s.spec.HTTP[i]); err != nil {
					break
				}
			}
			if err == nil {
				w.mu.Lock()
				for k := range s.httpFails {
					s.httpFails[k] = 0
				}
				w.mu.Unlock()
				return nil
			}
			detail = err.Error()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not up %s after the restart: %s", s.spec.startTimeout(), detail)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// escalate hands the instance back, or says once why it cannot.
func (w *Watchdog) escalate(ctx context.Context, reason string) {
	start := w.Now()
	ev := Event{Kind: "handback", Reason: reason, Start: start.UTC()}
	var err error
	if w.Healther == nil {
		err = fmt.Errorf("no Auto Scaling client: AWS is not configured (region, credentials)")
	} else {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = w.Healther.SetUnhealthy(cctx, w.InstanceID, reason)
		cancel()
	}
	ev.End, ev.OK = w.Now().UTC(), err == nil
	w.mu.Lock()
	if err != nil {
		ev.Error = err.Error()
		w.escalation = err.Error()
	} else {
		w.handedBack = &HandBack{At: ev.End, Reason: reason}
		w.save()
	}
	w.mu.Unlock()
	if err != nil {
		w.Log.Error("watchdog: cannot hand the instance back to its Auto Scaling group; repairs go on", "instance", w.InstanceID, "reason", reason, "error", err)
	} else {
		w.Metrics.handBack(true)
		w.Log.Error("watchdog: instance marked Unhealthy in its Auto Scaling group; no more repairs: the group replaces it", "instance", w.InstanceID, "reason", reason)
	}
	w.OnEvent(ev)
}

// waitReaped waits up to limit while the pid file's process is a zombie.
func waitReaped(ctx context.Context, pidfile string, limit time.Duration) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, state, err := procstatus.Stat("/proc/" + pid + "/stat"); err != nil || state != 'Z' {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Backoff is the wait after the n-th repair of a service within the
// window: none after the first (a service that died once is restarted at
// once), then base·2ⁿ⁻¹ (2, 4, 8 … intervals), at most max.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n <= 1 {
		return 0
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func within(ts []time.Time, cut time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if t.After(cut) {
			out = append(out, t)
		}
	}
	return out
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func oneLine(s string) string {
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return s
}
