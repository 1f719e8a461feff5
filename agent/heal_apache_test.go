package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/stackagent/stackagent/e2e"
	"github.com/stackagent/stackagent/internal/heal"
	"github.com/stackagent/stackagent/internal/telemetry"
	"github.com/stackagent/stackagent/lifecycle"

	"github.com/stackagent/stackagent/testenv"
)

const (
	apachePIDFile  = "/var/run/apache2/apache2.pid"
	brokenConf     = "/etc/apache2/conf-enabled/zz-stackagent-heal-test.conf"
	healInstanceID = "i-0123456789abcdef0"
)

// healCookbook is a configure recipe that marks Apache watched (as
// apache2::default does), starts it, and manages a file (for drift).
func healCookbook(t *testing.T, root string) {
	writeTree(t, root, map[string]string{
		"cb/healtest/metadata.json": `{"name": "healtest", "version": "1.0.0"}`,
		"cb/healtest/recipes/configure.lua": `
node.default.stackagent.watch.services.apache2 = {
  init = "apache2", pidfile = "` + apachePIDFile + `", process = "apache2", start_timeout = 20,
}
service "apache2" { supports = { status = true, restart = true }, action = "start" }
file(node.managed) { content = "managed by stackagent\n", mode = "0644" }
`,
		"attrs/10-layers.json": `{"managed": "` + filepath.Join(root, "managed.txt") + `", "stackagent": {"layers": {"web": {"recipes": {"setup": ["healtest::configure"], "configure": ["healtest::configure"]}}}}}`,
		"agent.yaml":           "# test config: everything comes from flags\n",
	})
}

func apacheArgs(root string, extra ...string) []string {
	return append([]string{"daemon", "--config", filepath.Join(root, "agent.yaml"),
		"--state-dir", filepath.Join(root, "state"), "--layers", "web", "--stack", "prod", "--instance-id", healInstanceID,
		"--cookbook-dirs", filepath.Join(root, "cb"), "--attributes-dir", filepath.Join(root, "attrs"),
		"--boot-setup", "false", "--roles-dir", filepath.Join(root, "roles")}, extra...)
}

// apacheAnswers is true when something answers HTTP on 127.0.0.1:80.
func apacheAnswers() bool {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get("http://127.0.0.1/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// killApache SIGKILLs Apache's processes: the pid file's and its
// children (found by their parent pid in /proc).
func killApache(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(apachePIDFile)
	if err != nil {
		t.Fatalf("apache pid file: %v", err)
	}
	main, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	pids := []int{main}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(st), ')'); i > 0 {
			f := strings.Fields(string(st)[i+2:])
			if len(f) > 1 && f[1] == strconv.Itoa(main) {
				pids = append(pids, pid)
			}
		}
	}
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	waitFor(t, "apache to die", 10*time.Second, func() bool { return !apacheAnswers() })
}

func healthz(t *testing.T, addr string) *telemetry.HealthReport {
	h, err := fetchHealth(context.Background(), addr)
	if err != nil {
		return nil
	}
	return h
}

func metricsText(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// fakeAutoScaling records SetInstanceHealth requests (no Auto Scaling
// server runs here: the SDK's request is checked on the wire).
type fakeAutoScaling struct {
	mu    sync.Mutex
	forms []url.Values
}

func (f *fakeAutoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, heal.SetInstanceHealthOK)
}

func (f *fakeAutoScaling) requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// TestAutoHealApache runs the daemon against the host's real Apache: the
// watchdog brings a killed Apache back within the check interval plus its
// start time (the repair is in the log, the metrics, /healthz and the
// reply queue); a broken config makes the repairs fail, and after
// repair_max of them SetInstanceHealth(InstanceId, Unhealthy) is sent (to
// a stand-in Auto Scaling endpoint: the API cannot run here, so the SDK's
// request is checked on the wire) and no further repair is tried; then
// drift correction puts back a managed file changed by hand and reports
// drift.
func TestAutoHealApache(t *testing.T) {
	testenv.Root(t, "drives the host's Apache")
	testenv.Require(t, "e2e enabled (STACKAGENT_E2E=0 turns it off)", os.Getenv("STACKAGENT_E2E") != "0")
	_, err := os.Stat("/etc/init.d/apache2")
	testenv.Require(t, "Apache's init script (apache2; scripts/test-deps.sh installs it, as root)", err == nil)
	e2e.LockApache(t)
	wasUp := apacheAnswers()
	t.Cleanup(func() {
		os.Remove(brokenConf)
		if wasUp && !apacheAnswers() {
			exec.Command("/etc/init.d/apache2", "start").Run()
		}
		if !wasUp {
			exec.Command("/etc/init.d/apache2", "stop").Run()
		}
	})
	srv := eventTestServer(t)
	reply := srv.CreateQueue(t, eventQueueName(t), nil)
	asg := &fakeAutoScaling{}
	asgSrv := httptest.NewServer(asg)
	defer asgSrv.Close()
	t.Setenv("AWS_ENDPOINT_URL_AUTO_SCALING", asgSrv.URL)

	root := t.TempDir()
	healCookbook(t, root)
	inbox := filepath.Join(root, "state", "inbox")
	os.MkdirAll(inbox, 0o755)
	addr := freeAddr(t)
	dctx, stopDaemon := context.WithCancel(context.Background())
	log := &lockedBuilder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmd := newRootCmd(log, log)
		cmd.SetArgs(apacheArgs(root, append(awsFlags(srv), "--reply-to", reply, "--metrics-address", addr,
			"--watch-interval", "1s", "--repair-max", "2", "--repair-window", "10m", "--escalate", "true")...))
		cmd.ExecuteContext(dctx)
	}()
	stop := func() {
		stopDaemon()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("daemon did not stop")
		}
	}
	defer stop()

	dropEvent(t, inbox, "c1", map[string]any{"id": "c1", "type": "configure", "attributes": map[string]any{"from_event": "yes"}})
	waitFor(t, "the configure run", 60*time.Second, func() bool { return readResult(t, inbox, "c1") != nil })
	if r := readResult(t, inbox, "c1"); r.Status != lifecycle.StatusSuccess {
		t.Fatalf("configure: %s %s\n%s", r.Status, r.Reason, r.Output)
	}
	waitFor(t, "apache2 watched and up in /healthz", 15*time.Second, func() bool {
		h := healthz(t, addr)
		return h != nil && h.AutoHeal != nil && len(h.AutoHeal.Services) == 1 && h.AutoHeal.Services[0].Up
	})
	if !apacheAnswers() {
		t.Fatal("apache does not answer after the configure run")
	}

	// 1. Kill Apache: it answers again within the check interval plus its
	// start time.
	killApache(t)
	killed := time.Now()
	waitFor(t, "apache to answer again", 25*time.Second, apacheAnswers)
	t.Logf("apache answered again %s after the kill (check interval 1s)", time.Since(killed).Round(10*time.Millisecond))
	waitFor(t, "the repair in the log", 10*time.Second, func() bool { return strings.Contains(log.String(), "watchdog: service repaired") })
	waitFor(t, "the repair in the metrics", 10*time.Second, func() bool {
		return strings.Contains(metricsText(addr), `stackagent_repairs_total{result="success",service="apache2"} 1`)
	})
	got := replies(t, srv, reply, 2, 20*time.Second)
	var repair *lifecycle.Result
	for _, r := range got {
		if r.EventType == "repair" {
			repair = r
		}
	}
	if repair == nil || repair.Status != lifecycle.StatusSuccess || repair.InstanceID != healInstanceID || !strings.Contains(repair.Reason, "apache2 was down") {
		b, _ := json.Marshal(got)
		t.Fatalf("no repair on the reply queue: %s", b)
	}
	if h := healthz(t, addr); h.AutoHeal.Services[0].Repairs != 1 || h.AutoHeal.HandedBack {
		t.Fatalf("/healthz after the repair: %+v\n%s", h.AutoHeal, log.String())
	}

	// 2. A broken config: restarts fail; after repair_max (2) failed
	// repairs the instance is handed back, and nothing more is tried.
	if err := os.WriteFile(brokenConf, []byte("ThisIsNotAnApacheDirective on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	killApache(t)
	deadline := time.Now().Add(90 * time.Second)
	for len(asg.requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no SetInstanceHealth request after 90s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := url.Values{"Action": {"SetInstanceHealth"}, "Version": {"2011-01-01"}, "InstanceId": {healInstanceID}, "HealthStatus": {"Unhealthy"}}
	if reqs := asg.requests(); len(reqs) != 1 || reqs[0].Encode() != want.Encode() {
		t.Fatalf("SetInstanceHealth requests: %v\nwant %v", reqs, want)
	}
	h := healthz(t, addr)
	if h == nil || !h.AutoHeal.HandedBack || h.AutoHeal.Services[0].FailedRepairs != 2 {
		t.Fatalf("/healthz after the hand-back: %+v", h)
	}
	attempts := strings.Count(log.String(), "watchdog: service is down; restarting it")
	time.Sleep(5 * time.Second) // five more check intervals
	if n := strings.Count(log.String(), "watchdog: service is down; restarting it"); n != attempts || len(asg.requests()) != 1 {
		t.Fatalf("repairs went on after the hand-back: %d → %d restarts, %d hand-backs", attempts, n, len(asg.requests()))
	}
	if !strings.Contains(metricsText(addr), "stackagent_handed_back 1") {
		t.Error("stackagent_handed_back is not 1")
	}
	var out strings.Builder
	cmd := newRootCmd(&out, &out)
	cmd.SetArgs([]string{"status", "--config", filepath.Join(root, "agent.yaml"), "--state-dir", filepath.Join(root, "state"), "--metrics-address", addr})
	cmd.Execute()
	if !strings.Contains(out.String(), "handed back:") || !strings.Contains(out.String(), "yes, at") || !strings.Contains(out.String(), "watched apache2:") {
		t.Errorf("status does not show the hand-back:\n%s", out.String())
	}
	stop()

	// 3. Drift: Apache fixed, a periodic configure run puts a managed file
	// back and reports drift (with the stack attributes of the last event).
	os.Remove(brokenConf)
	if out, err := exec.Command("/etc/init.d/apache2", "start").CombinedOutput(); err != nil {
		t.Fatalf("starting apache again: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(root, "state", healWatchFile)) // a new instance would not be handed back
	managed := filepath.Join(root, "managed.txt")
	if err := os.WriteFile(managed, []byte("changed by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, apacheArgs(root, append(awsFlags(srv), "--reply-to", reply, "--metrics-address", "off",
		"--drift-interval", "2s", "--drift-splay", "1s")...))
	store := &lifecycle.ResultStore{Dir: filepath.Join(root, "state", "runs")}
	var drift *lifecycle.Result
	waitFor(t, "a periodic run that reports drift", 60*time.Second, func() bool {
		for _, r := range store.Last(5) {
			if r.Periodic && r.Drift {
				drift = r
				return true
			}
		}
		return false
	})
	if b, _ := os.ReadFile(managed); string(b) != "managed by stackagent\n" {
		t.Fatalf("managed file not put back: %q", b)
	}
	if drift.EventType != lifecycle.TypeConfigure || drift.Status != lifecycle.StatusSuccess || !strings.Contains(drift.Reason, "drift") {
		t.Fatalf("drift result: %+v", drift)
	}
	// The next periodic run finds nothing to change: no drift.
	waitFor(t, "a periodic run without drift", 30*time.Second, func() bool {
		r := store.Last(1)
		return len(r) == 1 && r[0].Periodic && !r[0].Drift && r[0].End.After(drift.End)
	})
	var onQueue bool
	for _, r := range replies(t, srv, reply, 10, 10*time.Second) {
		if r.Periodic && r.Drift && r.EventID == drift.EventID {
			onQueue = true
		}
	}
	if !onQueue {
		t.Error("the drift result is not on the reply queue")
	}
}
