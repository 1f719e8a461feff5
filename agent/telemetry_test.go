package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/stackagent/stackagent/internal/telemetry"
	"github.com/stackagent/stackagent/lifecycle"
)

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDaemonMetricsAndHealth runs the daemon with the inbox and its
// endpoint on, drops known events (a superseded configure burst, a
// success, a failure, a skip, a refusal, a file that is not an event, a
// duplicate), then scrapes /metrics and asserts every counter exactly,
// lints the exposition, reads /healthz and runs stackagent status.
func TestDaemonMetricsAndHealth(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	e := newDaemonEnv(t, "--metrics-address", addr)
	writeTree(t, e.root, map[string]string{"cb/rec/recipes/boom.lua": `execute "exit 7"` + "\n"})
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	base := time.Now().UTC().Add(-time.Minute)
	for i, id := range []string{"c-old", "c-mid", "c-new"} {
		dropEvent(t, inbox, id, map[string]any{"id": id, "type": "configure", "issued_at": base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)})
		// Settled long ago: the first receive takes the whole burst.
		os.Chtimes(filepath.Join(inbox, id+".json"), base, base)
	}
	log := startDaemon(t, e.args)
	waitFor(t, "the configure burst", 15*time.Second, func() bool { return readResult(t, inbox, "c-new") != nil })
	processed := func(name, dir string) {
		waitFor(t, name+" to be processed", 15*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(inbox, dir, name+".json"))
			return err == nil
		})
	}
	for _, s := range []struct {
		name string
		ev   map[string]any
	}{
		{"setup", map[string]any{"id": "s-1", "type": "setup"}},
		{"boom", map[string]any{"id": "x-1", "type": "execute_recipes", "recipes": []string{"rec::boom"}}},
		{"other", map[string]any{"id": "o-1", "type": "configure", "layers": []string{"db"}}},
		{"duplicate", map[string]any{"id": "s-1", "type": "setup"}},
	} {
		dropEvent(t, inbox, s.name, s.ev)
		processed(s.name, "processed")
	}
	writeTree(t, inbox, map[string]string{"refused.json": `{"version": 2, "id": "r-1", "type": "configure"}`})
	processed("refused", "processed")
	writeTree(t, inbox, map[string]string{"junk.json": "this is not json"})
	processed("junk", "failed")
	if r := readResult(t, inbox, "boom"); r == nil || r.Status != "failed" {
		t.Fatalf("boom: %+v\n%s", r, log.String())
	}

	base_ := "http://" + addr
	want := `
# HELP stackagent_events_received_total Messages received from the event source, by event type (unknown: not an event, or refused before its type was read).
# TYPE stackagent_events_received_total counter
stackagent_events_received_total{type="configure"} 4
stackagent_events_received_total{type="execute_recipes"} 1
stackagent_events_received_total{type="setup"} 2
stackagent_events_received_total{type="unknown"} 2
# HELP stackagent_events_refused_total Events refused without a run (malformed, unknown version or type, missing fields), by event type.
# TYPE stackagent_events_refused_total counter
stackagent_events_refused_total{type="configure"} 1
stackagent_events_refused_total{type="unknown"} 1
# HELP stackagent_events_skipped_total Events skipped because they are not for this instance (stack, layers, instances), by event type.
# TYPE stackagent_events_skipped_total counter
stackagent_events_skipped_total{type="configure"} 1
# HELP stackagent_events_superseded_total Events answered superseded without a run (a configure older than the newest one waiting, or an event older than one already run for its state key), by event type.
# TYPE stackagent_events_superseded_total counter
stackagent_events_superseded_total{type="configure"} 2
# HELP stackagent_runs_total Runs finished, by event type and status (success, failed).
# TYPE stackagent_runs_total counter
stackagent_runs_total{status="failed",type="execute_recipes"} 1
stackagent_runs_total{status="success",type="configure"} 1
stackagent_runs_total{status="success",type="setup"} 1
# HELP stackagent_resources_updated_total Resources a run changed, by event type and resource kind.
# TYPE stackagent_resources_updated_total counter
stackagent_resources_updated_total{kind="lua_block",type="configure"} 1
stackagent_resources_updated_total{kind="lua_block",type="setup"} 2
# HELP stackagent_resources_failed_total Resources that failed in a run (failures ignored by ignore_failure excluded), by event type and resource kind.
# TYPE stackagent_resources_failed_total counter
stackagent_resources_failed_total{kind="execute",type="execute_recipes"} 1
# HELP stackagent_receive_errors_total Failed receives from the event source (SQS ReceiveMessage errors, inbox watcher failures).
# TYPE stackagent_receive_errors_total counter
stackagent_receive_errors_total 0
# HELP stackagent_backing_off 1 while the daemon backs off after failed receives, else 0.
# TYPE stackagent_backing_off gauge
stackagent_backing_off 0
`
	names := []string{"stackagent_events_received_total", "stackagent_events_refused_total", "stackagent_events_skipped_total",
		"stackagent_events_superseded_total", "stackagent_runs_total", "stackagent_resources_updated_total",
		"stackagent_resources_failed_total", "stackagent_receive_errors_total", "stackagent_backing_off"}
	// The daemon may still be settling the last file: retry briefly.
	var err error
	for i := 0; i < 20; i++ {
		if err = testutil.ScrapeAndCompare(base_+"/metrics", strings.NewReader(want), names...); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, log.String())
	}

	code, body := httpGet(t, base_+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range []string{
		`stackagent_run_duration_seconds_count{type="configure"} 1`,
		`stackagent_run_duration_seconds_count{type="setup"} 1`,
		`stackagent_run_duration_seconds_count{type="execute_recipes"} 1`,
		`stackagent_state{state="polling"} 1`,
		`stackagent_state{state="converging"} 0`,
		`stackagent_build_info{goversion="go`,
		`stackagent_last_successful_run_timestamp_seconds{type="setup"} 1.`,
		`stackagent_last_poll_timestamp_seconds 1.`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(body, `stackagent_last_successful_run_timestamp_seconds{type="execute_recipes"}`) {
		t.Error("a failed run set the last success")
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	code, body = httpGet(t, base_+"/healthz")
	var h telemetry.HealthReport
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 {
		t.Fatalf("/healthz %d %v: %s", code, err, body)
	}
	if !h.Healthy || h.State != "polling" || h.CurrentEvent != nil || h.LastPoll == nil || h.LastResult == nil {
		t.Fatalf("/healthz: %s", body)
	}
	if lr := h.LastResult; lr.EventID != "x-1" || lr.Status != "failed" || lr.AgeSeconds < 0 || lr.AgeSeconds > 60 || lr.End.IsZero() {
		t.Errorf("/healthz last result: %+v", lr)
	}

	cfgArgs := []string{"--config", filepath.Join(e.root, "agent.yaml"), "--state-dir", e.state, "--metrics-address", addr}
	r := runCLI(t, append([]string{"status"}, cfgArgs...)...)
	if r.code != 0 {
		t.Fatalf("status: %+v", r)
	}
	for _, s := range []string{"healthy: polling", "current event:  none", "inbox " + inbox + " (0 waiting)", "converge lock:  free",
		"x-1", "execute_recipes", "failed", "c-new", "superseded", "o-1", "skipped"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("status lacks %q:\n%s", s, r.out)
		}
	}
	r = runCLI(t, append([]string{"status", "--json"}, cfgArgs...)...)
	var st agentStatus
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || r.code != 0 {
		t.Fatalf("status --json %d %v: %s", r.code, err, r.out)
	}
	// Seven results kept: two superseded, three runs, a skip, a refusal
	// (a file that is no event has none); newest first.
	if !st.Healthy || st.Health == nil || st.Health.State != "polling" || len(st.Runs) != 7 || st.Runs[0].Status != "refused" {
		t.Errorf("status --json: %+v", st)
	}
}

// TestStatusWithoutDaemon: with no daemon to ask, status shows the state
// directory (last runs, the in-progress event, the lock holder) and exits 1.
func TestStatusWithoutDaemon(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	state := filepath.Join(root, "state")
	end := time.Now().UTC().Add(-time.Hour)
	writeTree(t, state, map[string]string{
		"runs/20260101T000000.000000000Z-d-1.json": fmt.Sprintf(`{"event_id":"d-1","event_type":"deploy","app":"wp","command":"deploy","status":"success","start":%q,"end":%q,"resources_updated":2,"resources_total":5}`,
			end.Add(-42*time.Second).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)),
		"in-progress.json": `{"event":{"version":1,"id":"c-9","type":"configure"},"started":"2026-01-01T00:00:00Z","pid":999999999,"attempts":1}`,
		"converge.lock":    `{"pid":999999999,"command":"daemon configure c-9","since":"2026-01-01T00:00:00Z"}`,
		"inbox/a.json":     `{}`,
		"agent.yaml":       "# empty\n",
	})
	addr := freeAddr(t)
	r := runCLI(t, "status", "--config", filepath.Join(state, "agent.yaml"), "--state-dir", state, "--metrics-address", addr)
	if r.code != 1 {
		t.Fatalf("status without a daemon must exit 1: %+v", r)
	}
	for _, s := range []string{"UNKNOWN: daemon not reachable at http://" + addr + "/healthz", "configure c-9", "not running: the next start runs it again",
		"(1 waiting)", "free (stale record of pid 999999999", "d-1", "deploy deploy wp", "success", "42s", "2/5"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("status lacks %q:\n%s", s, r.out)
		}
	}
	r = runCLI(t, "status", "--config", filepath.Join(state, "agent.yaml"), "--state-dir", state, "--metrics-address", "off", "--json")
	var st agentStatus
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || r.code != 1 || st.Healthy || st.Health != nil ||
		!strings.Contains(st.Error, "metrics_address is off") || len(st.Runs) != 1 || st.InProgress == nil || st.InProgress.Running {
		t.Fatalf("status --json, metrics off: %d %v %s", r.code, err, r.out)
	}
}

// TestStatusUnhealthy: a daemon answering 503 makes status exit 1 with
// the reason.
func TestStatusUnhealthy(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	h := telemetry.NewHealth(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	h.SetState(telemetry.StatePolling, nil)
	s, err := telemetry.Listen("127.0.0.1:0", telemetry.Handler(prometheus.NewRegistry(), h))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(t.Context())
	root := t.TempDir()
	writeTree(t, root, map[string]string{"agent.yaml": "# empty\n"})
	status := func() cli {
		return runCLI(t, "status", "--config", filepath.Join(root, "agent.yaml"), "--state-dir", root, "--metrics-address", s.Addr())
	}
	if r := status(); r.code != 0 || !strings.Contains(r.out, "healthy: polling") || !strings.Contains(r.out, "last poll:      none yet") {
		t.Fatalf("status: %+v", r)
	}
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	if r := status(); r.code != 1 || !strings.Contains(r.out, "UNHEALTHY: no receive completed for 6m0s since the start") {
		t.Fatalf("status: %+v", r)
	}
}

// TestDaemonMetricsOff: --metrics-address off serves nothing, even where
// the config file asks for an address.
func TestDaemonMetricsOff(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	e := newDaemonEnv(t, "--metrics-address", "off")
	writeTree(t, e.root, map[string]string{"agent.yaml": "metrics_address: " + addr + "\n"})
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	startDaemon(t, e.args)
	dropEvent(t, inbox, "setup", map[string]any{"id": "s-1", "type": "setup"})
	waitFor(t, "setup", 15*time.Second, func() bool { return readResult(t, inbox, "setup") != nil })
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens on %s with metrics off", addr)
	}
}

// TestTelemetryCountsReceives: a failed receive counts as a receive error
// and shows in the health report; a receive cancelled by the stop does
// not; a good one counts its messages by type and is a completed poll.
func TestTelemetryCountsReceives(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	tel, err := newDaemonTelemetry(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	tel.received(ctx, nil, errors.New("sqs: connection refused"))
	tel.received(ctx, []*lifecycle.Message{{ID: "1", Body: []byte(`{"version":1,"id":"a","type":"deploy"}`)}, {ID: "2", Body: []byte("junk")}}, nil)
	cancel()
	tel.received(ctx, nil, context.Canceled)
	want := `
# HELP stackagent_receive_errors_total Failed receives from the event source (SQS ReceiveMessage errors, inbox watcher failures).
# TYPE stackagent_receive_errors_total counter
stackagent_receive_errors_total 1
# HELP stackagent_events_received_total Messages received from the event source, by event type (unknown: not an event, or refused before its type was read).
# TYPE stackagent_events_received_total counter
stackagent_events_received_total{type="deploy"} 1
stackagent_events_received_total{type="unknown"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stackagent_receive_errors_total", "stackagent_events_received_total"); err != nil {
		t.Error(err)
	}
	// The good receive came after the failure: the error is cleared.
	if h := tel.health.Report(); h.LastPoll == nil || h.LastReceiveError != "" {
		t.Errorf("health: %+v", h)
	}
	tel.received(t.Context(), nil, errors.New("sqs: throttled"))
	if h := tel.health.Report(); h.LastReceiveError != "sqs: throttled" {
		t.Errorf("health: %+v", h)
	}
}
