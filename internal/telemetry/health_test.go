package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stackagent/stackagent/lifecycle"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newTestHealth() (*Health, *clock) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return NewHealth(c.now), c
}

func TestHealthPollingAndWedged(t *testing.T) {
	t.Parallel()
	h, c := newTestHealth()
	if r := h.Report(); !r.Healthy || r.State != StateStarting || r.LastPoll != nil {
		t.Fatalf("starting: %+v", r)
	}
	h.SetState(StatePolling, nil)
	c.add(20 * time.Second)
	h.Polled()
	c.add(4 * time.Minute)
	r := h.Report()
	if !r.Healthy || r.State != StatePolling || r.LastPollAgeSeconds == nil || *r.LastPollAgeSeconds != 240 {
		t.Fatalf("polling: %+v", r)
	}
	// No poll completes for more than five minutes: wedged.
	c.add(61 * time.Second)
	r = h.Report()
	if r.Healthy || !strings.Contains(r.Reason, "no receive completed for 5m1s since the last poll") {
		t.Fatalf("wedged: %+v", r)
	}
	h.Polled()
	if r := h.Report(); !r.Healthy {
		t.Fatalf("a poll completes again: %+v", r)
	}
}

func TestHealthNeverPolled(t *testing.T) {
	t.Parallel()
	h, c := newTestHealth()
	h.SetState(StatePolling, nil)
	c.add(5*time.Minute + time.Second)
	if r := h.Report(); r.Healthy || !strings.Contains(r.Reason, "since the start") {
		t.Fatalf("%+v", r)
	}
}

func TestHealthBackingOff(t *testing.T) {
	t.Parallel()
	h, c := newTestHealth()
	h.Polled()
	h.ReceiveFailed(errors.New("connection refused"))
	h.SetState(StateBackingOff, nil)
	c.add(time.Minute)
	r := h.Report()
	if !r.Healthy || r.State != StateBackingOff || r.LastReceiveError != "connection refused" || !strings.Contains(r.Reason, "backing off") {
		t.Fatalf("a minute of back-off is healthy: %+v", r)
	}
	c.add(5 * time.Minute)
	r = h.Report()
	if r.Healthy || !strings.Contains(r.Reason, "last receive error: connection refused") {
		t.Fatalf("six minutes without a receive: %+v", r)
	}
}

func TestHealthConverging(t *testing.T) {
	t.Parallel()
	h, c := newTestHealth()
	h.ConvergeLimit = 30 * time.Minute
	h.SetState(StatePolling, nil)
	h.Polled()
	ev := &lifecycle.Event{ID: "d-1", Type: "deploy", App: "wp", Command: "deploy"}
	h.SetState(StateConverging, ev)
	c.add(20 * time.Minute) // busy, long past the poll timeout: healthy
	r := h.Report()
	if !r.Healthy || r.CurrentEvent == nil || r.CurrentEvent.ID != "d-1" || r.StateSeconds != 1200 || !strings.Contains(r.Reason, "converging deploy d-1") {
		t.Fatalf("busy: %+v", r)
	}
	c.add(11 * time.Minute)
	if r := h.Report(); r.Healthy || !strings.Contains(r.Reason, "longer than the 30m0s limit") {
		t.Fatalf("stuck converge: %+v", r)
	}
	start := c.now().Add(-31 * time.Minute)
	h.ObserveResult(&lifecycle.Result{EventID: "d-1", EventType: "deploy", Status: "failed", Start: start, End: c.now(), Output: "lots"})
	h.SetState(StatePolling, nil)
	c.add(10 * time.Second)
	// The converge just ended: the poll clock counts from its end.
	r = h.Report()
	if !r.Healthy || r.CurrentEvent != nil {
		t.Fatalf("after the converge: %+v", r)
	}
	lr := r.LastResult
	if lr == nil || lr.EventID != "d-1" || lr.Status != "failed" || lr.DurationSeconds != 31*60 || lr.AgeSeconds != 10 {
		t.Fatalf("last result: %+v", lr)
	}
	// Refusals and skips are not runs.
	h.ObserveResult(&lifecycle.Result{EventID: "x", Status: lifecycle.StatusSkipped})
	if h.Report().LastResult.EventID != "d-1" {
		t.Error("a skip replaced the last run")
	}
}

func TestHealthStopped(t *testing.T) {
	t.Parallel()
	h, _ := newTestHealth()
	h.SetState(StateStopped, nil)
	if r := h.Report(); r.Healthy {
		t.Fatalf("%+v", r)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	h, c := newTestHealth()
	h.Version = "9.9.9"
	m.EventReceived("setup")
	srv := httptest.NewServer(Handler(reg, h))
	defer srv.Close()

	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `stackagent_events_received_total{type="setup"} 1`) || !strings.Contains(body, `stackagent_build_info{goversion=`) {
		t.Fatalf("/metrics %d:\n%s", code, body)
	}
	h.SetState(StatePolling, nil)
	h.Polled()
	code, body = get("/healthz")
	var r HealthReport
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || !r.Healthy || r.State != "polling" || r.Version != "9.9.9" {
		t.Fatalf("/healthz %d %v: %s", code, err, body)
	}
	for _, field := range []string{`"state_since"`, `"current_event": null`, `"last_poll"`, `"last_result": null`, `"reason"`} {
		if !strings.Contains(body, field) {
			t.Errorf("/healthz lacks %s: %s", field, body)
		}
	}
	c.add(10 * time.Minute)
	if code, body = get("/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"healthy": false`) {
		t.Fatalf("unhealthy /healthz %d: %s", code, body)
	}
	if code, _ = get("/nope"); code != 404 {
		t.Errorf("/nope: %d", code)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	h, _ := newTestHealth()
	s, err := Listen("127.0.0.1:0", Handler(prometheus.NewRegistry(), h))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	resp, err := http.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Fatal("still serving after ctx is done")
	}
	if err := Serve(context.Background(), "not an address", nil); err == nil {
		t.Fatal("a bad address must fail")
	}
}

// TestHealthDegradedOnStalledReceive: a receive open past its long poll
// (plus 5 s) is degraded at once, still healthy; a completed receive is ok
// again; backing off is degraded.
func TestHealthDegradedOnStalledReceive(t *testing.T) {
	t.Parallel()
	h, c := newTestHealth()
	h.SetPollWait(20 * time.Second)
	h.SetState(StatePolling, nil)
	c.add(20 * time.Second)
	if r := h.Report(); r.Status != StatusOK {
		t.Fatalf("within the long poll: %+v", r)
	}
	c.add(6 * time.Second)
	r := h.Report()
	if !r.Healthy || r.Status != StatusDegraded || !strings.Contains(r.Reason, "stalled") {
		t.Fatalf("26 s into a 20 s long poll: %+v", r)
	}
	h.Polled()
	h.SetState(StatePolling, nil)
	if r := h.Report(); r.Status != StatusOK {
		t.Fatalf("after a completed receive: %+v", r)
	}
	h.ReceiveFailed(errors.New("receive from q: no answer from SQS within the deadline"))
	h.SetState(StateBackingOff, nil)
	if r := h.Report(); r.Status != StatusDegraded || !strings.Contains(r.Reason, "no answer") {
		t.Fatalf("backing off: %+v", r)
	}
	c.add(6 * time.Minute)
	if r := h.Report(); r.Healthy || r.Status != StatusUnhealthy {
		t.Fatalf("six minutes: %+v", r)
	}
}

// TestHealthWarnings: the warnings the daemon started with (strict modes
// set to warn) are in /healthz, copied, and do not make it unhealthy.
func TestHealthWarnings(t *testing.T) {
	t.Parallel()
	h, _ := newTestHealth()
	w := []string{"inbox_dir: /x is world-writable (mode 0777; chmod go-w /x)"}
	h.SetWarnings(w)
	w[0] = "changed"
	h.SetState(StatePolling, nil)
	srv := httptest.NewServer(Handler(prometheus.NewRegistry(), h))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r HealthReport
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if !r.Healthy || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "world-writable") {
		t.Fatalf("report %+v", r)
	}
}
