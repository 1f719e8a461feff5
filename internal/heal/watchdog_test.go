package heal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stackagent/stackagent/internal/procstatus"
)

// startSleep starts a real process and writes its pid file; it is killed
// when the test ends.
func startSleep(t testing.TB, pidfile string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func readPID(t *testing.T, pidfile string) int {
	t.Helper()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func TestProberPIDFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "svc.pid")
	p := InitProber{}
	s := &Service{Name: "svc", PIDFile: pidfile, Process: "sleep"}
	if up, why := p.Alive(context.Background(), s); up || !strings.Contains(why, "no pid file") {
		t.Fatalf("no pid file: up=%v %q", up, why)
	}
	cmd := startSleep(t, pidfile)
	if up, why := p.Alive(context.Background(), s); !up {
		t.Fatalf("running sleep: down: %s", why)
	}
	if up, why := p.Alive(context.Background(), &Service{Name: "svc", PIDFile: pidfile, Process: "apache2"}); up || !strings.Contains(why, "stale pid file") {
		t.Fatalf("wrong command: up=%v %q", up, why)
	}
	// Killed but not reaped: a zombie is not a running service.
	cmd.Process.Signal(syscall.SIGKILL)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, state, _ := procstatus.Stat(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if state == 'Z' || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if up, why := p.Alive(context.Background(), s); up || !strings.Contains(why, "dead (state Z)") {
		t.Fatalf("zombie: up=%v %q", up, why)
	}
	cmd.Wait()
	if up, why := p.Alive(context.Background(), s); up || !strings.Contains(why, "is not running") {
		t.Fatalf("reaped: up=%v %q", up, why)
	}
}

// TestWatchdogRestartsKilledProcess: a real process dies; one step finds
// it down and runs the restart command, which starts it again; the repair
// is counted, reported and shown in the status.
func TestWatchdogRestartsKilledProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "svc.pid")
	first := startSleep(t, pidfile)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []Event
	w := &Watchdog{Interval: time.Second, Metrics: m, StateFile: filepath.Join(dir, "watch.json"),
		Prober: InitProber{}, Repairer: InitRepairer{},
		OnEvent: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }}
	w.Update(Watches{Services: []Service{{Name: "svc", PIDFile: pidfile, Process: "sleep", StartTimeout: 5 * time.Second,
		RestartCommand: "sleep 300 >/dev/null 2>&1 & echo $! > " + pidfile}}})
	ctx := context.Background()
	w.Step(ctx)
	if st := w.Status(); !st.Services[0].Up || st.Services[0].Repairs != 0 {
		t.Fatalf("before the kill: %+v", st.Services[0])
	}
	first.Process.Kill()
	first.Wait()
	w.Step(ctx)
	newPID := readPID(t, pidfile)
	t.Cleanup(func() { syscall.Kill(newPID, syscall.SIGKILL) })
	if newPID == first.Process.Pid || syscall.Kill(newPID, 0) != nil {
		t.Fatalf("not restarted: pid %d", newPID)
	}
	st := w.Status().Services[0]
	if !st.Up || st.Repairs != 1 || st.FailedRepairs != 0 || st.LastRepair == nil || !st.LastRepair.OK {
		t.Fatalf("status after the repair: %+v", st)
	}
	mu.Lock()
	if len(events) != 1 || events[0].Kind != "repair" || !events[0].OK || !strings.Contains(events[0].Reason, "is not running") {
		t.Fatalf("events: %+v", events)
	}
	mu.Unlock()
	if n := testutil.ToFloat64(m.repairs.WithLabelValues("svc", "success")); n != 1 {
		t.Errorf("repairs_total{success} = %v", n)
	}
	if n := testutil.ToFloat64(m.up.WithLabelValues("svc")); n != 1 {
		t.Errorf("watched_service_up = %v", n)
	}
	// The watched list survives a restart of the agent.
	w2 := &Watchdog{StateFile: filepath.Join(dir, "watch.json")}
	if err := w2.Load(); err != nil || len(w2.Status().Services) != 1 {
		t.Fatalf("reloaded: %v %+v", err, w2.Status())
	}
}

// fakes for the decisions, on a fake clock.
type downProber struct{}

func (downProber) Alive(context.Context, *Service) (bool, string) {
	return false, "pid 42 is not running"
}

type countRepairer struct {
	mu  sync.Mutex
	n   int
	err error
}

func (r *countRepairer) Restart(context.Context, *Service) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return "Action 'start' failed.", r.err
}

func (r *countRepairer) count() int { r.mu.Lock(); defer r.mu.Unlock(); return r.n }

type fakeHealther struct {
	calls []string
	err   error
}

func (h *fakeHealther) SetUnhealthy(_ context.Context, id, reason string) error {
	h.calls = append(h.calls, id+": "+reason)
	return h.err
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func svc(name string) Watches {
	return Watches{Services: []Service{{Name: name, PIDFile: "/nonexistent", StartTimeout: 100 * time.Millisecond}}}
}
func stepAt(w *Watchdog, c *clock, d time.Duration) { c.add(d); w.Step(context.Background()) }

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 2: 10 * time.Second, 3: 20 * time.Second, 4: 40 * time.Second, 8: 5 * time.Minute, 30: 5 * time.Minute} {
		if got := Backoff(n, 5*time.Second, 5*time.Minute); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestEscalationAfterRepairMax: failed repairs back off (none during the
// wait), the RepairMax-th failure within the window hands the instance
// back once, with the instance id, and no repair is tried after that.
func TestEscalationAfterRepairMax(t *testing.T) {
	t.Parallel()
	c := newClock()
	rep := &countRepairer{err: errors.New("exit status 1")}
	h := &fakeHealther{}
	var events []Event
	w := &Watchdog{Interval: 5 * time.Second, RepairMax: 3, RepairWindow: 10 * time.Minute, Escalate: true,
		InstanceID: "i-0123456789abcdef0", Prober: downProber{}, Repairer: rep, Healther: h, Now: c.now,
		OnEvent: func(e Event) { events = append(events, e) }}
	w.Update(svc("apache2"))
	stepAt(w, c, 0) // repair 1, fails; no back-off after the first
	stepAt(w, c, 5*time.Second)
	if rep.count() != 2 {
		t.Fatalf("repairs after 2 steps: %d", rep.count())
	}
	// Back-off: 2 repairs in the window → 10 s wait.
	stepAt(w, c, 5*time.Second)
	if rep.count() != 2 {
		t.Fatalf("repaired during the back-off: %d", rep.count())
	}
	if len(h.calls) != 0 {
		t.Fatalf("escalated after 2 failures: %v", h.calls)
	}
	stepAt(w, c, 5*time.Second) // 10 s after the 2nd: repair 3 fails → escalate
	if rep.count() != 3 || len(h.calls) != 1 || !strings.HasPrefix(h.calls[0], "i-0123456789abcdef0: service apache2: 3 repairs failed") {
		t.Fatalf("repairs %d, hand-backs %v", rep.count(), h.calls)
	}
	st := w.Status()
	if !st.HandedBack || st.HandedBackReason == "" || st.Services[0].FailedInWindow != 3 {
		t.Fatalf("status: %+v", st)
	}
	for i := 0; i < 20; i++ {
		stepAt(w, c, time.Minute)
	}
	if rep.count() != 3 || len(h.calls) != 1 {
		t.Fatalf("after the hand-back: %d repairs, %d hand-backs", rep.count(), len(h.calls))
	}
	last := events[len(events)-1]
	if last.Kind != "handback" || !last.OK {
		t.Fatalf("last event: %+v", last)
	}
}

// TestEscalationWindow: failures further apart than the window never add
// up to RepairMax.
func TestEscalationWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	rep := &countRepairer{err: errors.New("exit status 1")}
	h := &fakeHealther{}
	w := &Watchdog{Interval: 5 * time.Second, RepairMax: 3, RepairWindow: 10 * time.Minute, Escalate: true,
		InstanceID: "i-0abc1234", Prober: downProber{}, Repairer: rep, Healther: h, Now: c.now}
	w.Update(svc("apache2"))
	for i := 0; i < 6; i++ {
		stepAt(w, c, 6*time.Minute)
	}
	if rep.count() != 6 || len(h.calls) != 0 {
		t.Fatalf("%d repairs, hand-backs %v", rep.count(), h.calls)
	}
}

// TestEscalationUnavailable: off EC2 (or without the permission) the
// hand-back fails; it is said once and repairs go on.
func TestEscalationUnavailable(t *testing.T) {
	t.Parallel()
	c := newClock()
	rep := &countRepairer{err: errors.New("exit status 1")}
	h := &fakeHealther{err: ErrNotOnEC2}
	var handbacks int
	w := &Watchdog{Interval: 5 * time.Second, RepairMax: 2, RepairWindow: time.Hour, Escalate: true, BackoffMax: 10 * time.Second,
		InstanceID: "web1", Prober: downProber{}, Repairer: rep, Healther: h, Now: c.now,
		OnEvent: func(e Event) {
			if e.Kind == "handback" {
				handbacks++
			}
		}}
	w.Update(svc("apache2"))
	for i := 0; i < 10; i++ {
		stepAt(w, c, 10*time.Second)
	}
	if rep.count() != 10 || len(h.calls) != 1 || handbacks != 1 {
		t.Fatalf("%d repairs, %d hand-back attempts, %d reported", rep.count(), len(h.calls), handbacks)
	}
	if st := w.Status(); st.HandedBack || !strings.Contains(st.EscalationError, "not on EC2") {
		t.Fatalf("status: %+v", st)
	}
	// Escalate off: never asked.
	h2 := &fakeHealther{}
	w2 := &Watchdog{RepairMax: 1, Prober: downProber{}, Repairer: &countRepairer{err: errors.New("x")}, Healther: h2, Now: c.now}
	w2.Update(svc("apache2"))
	stepAt(w2, c, time.Minute)
	if len(h2.calls) != 0 {
		t.Fatal("escalated with Escalate off")
	}
}

// TestPausedAndLockedRepairs: no repair while a converge runs (paused) or
// holds the converge lock.
func TestPausedAndLockedRepairs(t *testing.T) {
	t.Parallel()
	c := newClock()
	rep := &countRepairer{}
	locked := true
	w := &Watchdog{Prober: downProber{}, Repairer: rep, Now: c.now,
		Lock: func() (func(), string, bool) { return func() {}, "pid 1 (daemon configure e1)", !locked }}
	w.Update(svc("apache2"))
	w.Pause(true)
	stepAt(w, c, time.Minute)
	w.Pause(false)
	stepAt(w, c, time.Minute)
	if rep.count() != 0 {
		t.Fatalf("repaired while paused or locked: %d", rep.count())
	}
	locked = false
	stepAt(w, c, time.Minute)
	if rep.count() != 1 {
		t.Fatalf("repairs: %d", rep.count())
	}
	w.Clear("shutdown")
	stepAt(w, c, time.Minute)
	if rep.count() != 1 || w.Status().Watching {
		t.Fatal("still watching after Clear")
	}
}

// TestWebCheckTriggersRepair: the process is up but the site answers 500
// twice in a row: the service is restarted.
func TestWebCheckTriggersRepair(t *testing.T) {
	t.Parallel()
	var status = http.StatusInternalServerError
	var mu sync.Mutex
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hosts = append(hosts, r.Host+r.URL.Path)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	c := newClock()
	rep := &countRepairer{}
	w := &Watchdog{Prober: upProber{}, Repairer: rep, Now: c.now}
	w.Update(Watches{Services: []Service{{Name: "apache2", StartTimeout: 2 * time.Second,
		HTTP: []HTTPCheck{{Name: "shop", Host: "shop.test", Path: "/health", Port: port, Status: 200, Timeout: time.Second, Failures: 2}}}}})
	stepAt(w, c, time.Second)
	if rep.count() != 0 {
		t.Fatal("repaired after one failed web check")
	}
	go func() { time.Sleep(300 * time.Millisecond); mu.Lock(); status = http.StatusOK; mu.Unlock() }()
	stepAt(w, c, time.Second)
	if rep.count() != 1 {
		t.Fatalf("repairs after two failed web checks: %d", rep.count())
	}
	st := w.Status().Services[0]
	if !st.LastRepair.OK || !strings.Contains(st.LastRepair.Reason, "web check shop failed 2 times") {
		t.Fatalf("last repair: %+v", st.LastRepair)
	}
	mu.Lock()
	if hosts[0] != "shop.test/health" {
		t.Errorf("request: %s", hosts[0])
	}
	mu.Unlock()
}

type upProber struct{}

func (upProber) Alive(context.Context, *Service) (bool, string) { return true, "pid 1 running" }

func TestParseWatches(t *testing.T) {
	t.Parallel()
	ws, errs := ParseWatches(map[string]any{"stackagent": map[string]any{"watch": map[string]any{
		"services": map[string]any{
			"apache2": map[string]any{"pidfile": "/var/run/apache2/apache2.pid", "init": "apache2",
				"http": map[string]any{"path": "/", "host": "wp.test", "status": 200.0}},
			"php-fpm": false,
			"bad":     "yes",
		},
		"http": map[string]any{"shop": map[string]any{"service": "apache2", "path": "/ok", "timeout": 2.5},
			"orphan": map[string]any{"service": "nginx"}},
	}}})
	if len(errs) != 2 {
		t.Errorf("errors: %v", errs)
	}
	if len(ws.Services) != 1 || len(ws.Removed) != 1 || ws.Removed[0] != "php-fpm" {
		t.Fatalf("%+v", ws)
	}
	a := ws.Services[0]
	if len(a.HTTP) != 2 || a.HTTP[0].Host != "wp.test" || a.HTTP[1].Name != "shop" || a.HTTP[1].Timeout != 2500*time.Millisecond || a.HTTP[1].Port != 80 {
		t.Fatalf("%+v", a.HTTP)
	}
}

// TestSetInstanceHealthWireFormat: no Auto Scaling server runs here, so
// the real SDK client's request is checked on the wire (AWS Query
// protocol, a signed form POST) against an httptest server on 127.0.0.1
// answering as Auto Scaling does.
func TestSetInstanceHealthWireFormat(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var forms []url.Values
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, SetInstanceHealthOK)
	}))
	defer srv.Close()
	h := NewASGHealther(TestASGClient(srv.URL))
	if err := h.SetUnhealthy(context.Background(), "i-0123456789abcdef0", "apache2 keeps dying"); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"Action": {"SetInstanceHealth"}, "Version": {"2011-01-01"}, "InstanceId": {"i-0123456789abcdef0"}, "HealthStatus": {"Unhealthy"}}
	if len(forms) != 1 || forms[0].Encode() != want.Encode() {
		t.Fatalf("forms %v\nwant %v", forms, want)
	}
	if !strings.HasPrefix(auth[0], "AWS4-HMAC-SHA256 ") || !strings.Contains(auth[0], "/eu-west-1/autoscaling/aws4_request") {
		t.Errorf("not signed for autoscaling: %q", auth[0])
	}
	// Off EC2 nothing is sent.
	if err := h.SetUnhealthy(context.Background(), "web1.example.com", "x"); !errors.Is(err, ErrNotOnEC2) {
		t.Fatalf("off EC2: %v", err)
	}
	if len(forms) != 1 {
		t.Fatal("a request was sent off EC2")
	}
}

func TestSetInstanceHealthAccessDenied(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: autoscaling:SetInstanceHealth</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	defer srv.Close()
	err := NewASGHealther(TestASGClient(srv.URL)).SetUnhealthy(context.Background(), "i-0abc1234", "x")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "autoscaling:SetInstanceHealth") {
		t.Fatalf("error: %v", err)
	}
}
