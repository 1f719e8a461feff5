package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonRefusesMetricsAddressInUse: a second agent on a host whose
// metrics_address another process holds refuses to start, saying so,
// rather than run without metrics while status reads the other's health.
func TestDaemonRefusesMetricsAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e := newDaemonEnv(t, "--metrics-address", ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &lockedBuilder{}
	cmd := newRootCmd(out, out)
	cmd.SetArgs(e.args)
	err = cmd.ExecuteContext(ctx)
	var xe *exitError
	if !errors.As(err, &xe) || xe.code != 1 || ctx.Err() != nil {
		t.Fatalf("daemon returned %v (ctx %v), want exit 1\n%s", err, ctx.Err(), out.String())
	}
	for _, want := range []string{"metrics_address " + ln.Addr().String(), "another process (another stackagent?) listens there", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestCLIDeployIsARun: stackagent deploy and rollback leave a run record
// in state_dir/runs as events do; status lists them, and a running
// daemon's /healthz shows the newest as its last result.
func TestCLIDeployIsARun(t *testing.T) {
	t.Parallel()
	root, config := deployHost(t)
	addr := freeAddr(t)
	startDaemon(t, []string{"daemon", "--config", config, "--metrics-address", addr, "--boot-setup", "false"})
	waitFor(t, "the daemon's /healthz", 15*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	for _, cmd := range []string{"deploy", "rollback"} {
		r := runCLI(t, cmd, "wp", "--config", config, "--root", root)
		if cmd == "deploy" && r.code != 0 {
			t.Fatalf("deploy: %+v", r)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(root, "var/lib/stackagent/runs/*-cli-*.json"))
	if len(runs) != 2 {
		t.Fatalf("runs/ holds %v, want the deploy's and the rollback's", runs)
	}
	st := runCLI(t, "status", "--config", config, "--metrics-address", addr, "--json")
	var s agentStatus
	if err := json.Unmarshal([]byte(st.out), &s); err != nil {
		t.Fatalf("status --json: %v\n%+v", err, st)
	}
	if len(s.Runs) != 2 || !strings.HasPrefix(s.Runs[0].EventID, "cli-rollback-") || s.Runs[0].Status != "failed" ||
		!strings.HasPrefix(s.Runs[1].EventID, "cli-deploy-") || s.Runs[1].Status != "success" || s.Runs[1].Updated != 1 {
		t.Fatalf("status runs: %+v", s.Runs)
	}
	// The rollback failed (one release only): /healthz's last result.
	if s.Health == nil || s.Health.LastResult == nil || s.Health.LastResult.EventID != s.Runs[0].EventID {
		t.Fatalf("/healthz last result: %+v", s.Health)
	}
	if _, err := os.Stat(filepath.Join(root, "srv/www/wp/current")); err != nil {
		t.Fatal(err)
	}
}
