package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/telemetry"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// spawnDaemon runs the daemon as its own process (the test binary
// re-executed), logging to root/daemon.log.
func spawnDaemon(t *testing.T, e *daemonEnv) *exec.Cmd {
	t.Helper()
	args, _ := json.Marshal(e.args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STACKAGENT_CLI_ARGS="+string(args))
	logf, err := os.OpenFile(filepath.Join(e.root, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func (e *daemonEnv) log() string {
	b, _ := os.ReadFile(filepath.Join(e.root, "daemon.log"))
	return string(b)
}

// TestDaemonGracefulStopsCountTowardAttempts: an event whose run is cut
// short by SIGTERM again and again (a recipe that restarts the agent) is
// started 3 times, then given up with a failed result naming the stops,
// and its inbox file is set aside with that result: never a fourth run.
func TestDaemonGracefulStopsCountTowardAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("four daemon processes, three slow runs")
	}
	t.Parallel()
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o750); err != nil {
		t.Fatal(err)
	}
	dropEvent(t, inbox, "slow", map[string]any{"id": "slow-1", "type": "execute_recipes", "recipes": []string{"rec::slow"}})
	starts := func() int { return strings.Count(strings.Join(e.ran(), "\n"), "start slow-1") }
	for i := 1; i <= 3; i++ {
		cmd := spawnDaemon(t, e)
		waitFor(t, fmt.Sprintf("run %d to start", i), 30*time.Second, func() bool { return starts() == i })
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	if strings.Contains(strings.Join(e.ran(), "\n"), "end slow-1") {
		t.Fatalf("a stopped run finished: %q", e.ran())
	}
	last := spawnDaemon(t, e)
	waitFor(t, "the result", 30*time.Second, func() bool { return readResult(t, inbox, "slow") != nil })
	r := readResult(t, inbox, "slow")
	if r.Status != "failed" || !strings.Contains(r.Reason, "gave up after 3 attempts") || !strings.Contains(r.Reason, "3 stopped by a signal") {
		t.Fatalf("result %+v\n%s", r, e.log())
	}
	if _, err := os.Stat(filepath.Join(inbox, "slow.json")); err == nil {
		t.Fatal("the event file is still in the inbox")
	}
	last.Process.Signal(syscall.SIGTERM)
	last.Wait()
	if n := starts(); n != 3 {
		t.Fatalf("%d runs started, want 3: %q", n, e.ran())
	}
}

// tryGet reads url; "" while the endpoint is not up.
func tryGet(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDaemonStalledSQS: an SQS endpoint that accepts connections and never
// answers. /healthz says degraded while the receive is open past its long
// poll, the stall is logged and counted, and the daemon backs off.
func TestDaemonStalledSQS(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an 11 s receive deadline")
	}
	awsTestEnv(t) // sets the environment: not parallel
	hole := sqstest.BlackHole(t)
	metrics := freeAddr(t)
	e := newDaemonEnv(t, "--queue-url", hole+"/000000000000/q", "--endpoint", hole, "--region", "us-east-1",
		"--wait-seconds", "1", "--metrics-address", metrics)
	log := startDaemon(t, e.args)
	waitFor(t, "/healthz to say degraded", 30*time.Second, func() bool {
		var r telemetry.HealthReport
		return json.Unmarshal([]byte(tryGet("http://"+metrics+"/healthz")), &r) == nil &&
			r.Healthy && r.Status == telemetry.StatusDegraded && strings.Contains(r.Reason, "stalled")
	})
	waitFor(t, "the stall to be counted", 30*time.Second, func() bool {
		return strings.Contains(tryGet("http://"+metrics+"/metrics"), "stackagent_receive_stalls_total 1")
	})
	waitFor(t, "the stall in the log", 10*time.Second, func() bool {
		return strings.Contains(log.String(), "receive stalled") && strings.Contains(log.String(), "backing off")
	})
}
