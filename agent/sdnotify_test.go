package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// TestDaemonNotifiesSystemd runs the daemon as systemd runs a Type=notify
// unit with WatchdogSec=: $NOTIFY_SOCKET names a unixgram socket the test
// listens on and $WATCHDOG_USEC the interval. READY=1 comes once the
// source is being polled (after the first boot's setup run), WATCHDOG=1 at
// half the interval while the daemon runs, STOPPING=1 on SIGTERM.
func TestDaemonNotifiesSystemd(t *testing.T) {
	t.Run("inbox after boot setup", func(t *testing.T) {
		e := newDaemonEnv(t, "--boot-setup", "true")
		checkNotify(t, e, true)
	})
	t.Run("sqs", func(t *testing.T) {
		awsTestEnv(t)
		srv := sqstest.Start(t)
		queue := srv.CreateQueue(t, "notify", nil)
		reply := srv.CreateQueue(t, "notify-replies", nil)
		checkNotify(t, newDaemonEnv(t, sqsDaemonArgs(srv, queue, reply)...), false)
	})
}

type notification struct {
	at    time.Time
	lines []string
}

func (n notification) has(s string) bool {
	for _, l := range n.lines {
		if l == s {
			return true
		}
	}
	return false
}

func checkNotify(t *testing.T, e *daemonEnv, bootSetup bool) {
	t.Helper()
	const watchdog = time.Second
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make(chan notification, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- notification{time.Now(), strings.Split(string(buf[:n]), "\n")}
		}
	}()

	args, _ := json.Marshal(e.args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STACKAGENT_CLI_ARGS="+string(args),
		"NOTIFY_SOCKET="+sock, "WATCHDOG_USEC="+strconv.FormatInt(watchdog.Microseconds(), 10))
	logPath := filepath.Join(e.root, "daemon.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	daemonLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	// READY=1, and before it nothing but watchdog pings and status lines.
	deadline := time.After(30 * time.Second)
	var ready time.Time
	for ready.IsZero() {
		select {
		case n := <-got:
			for _, l := range n.lines {
				if l != "READY=1" && l != "WATCHDOG=1" && !strings.HasPrefix(l, "STATUS=") {
					t.Errorf("before READY=1: %q", l)
				}
			}
			if n.has("READY=1") {
				ready = n.at
				if bootSetup && !strings.Contains(strings.Join(e.ran(), "\n"), "setup setup") {
					t.Errorf("READY=1 before the boot setup ran: %q", e.ran())
				}
			}
		case <-deadline:
			t.Fatalf("no READY=1 within 30s\n%s", daemonLog())
		}
	}

	// WATCHDOG=1 at least once per interval (at half of it, in fact).
	var pings []time.Time
	collect := time.After(4 * watchdog)
wait:
	for {
		select {
		case n := <-got:
			if n.has("WATCHDOG=1") {
				pings = append(pings, n.at)
			}
		case <-collect:
			break wait
		}
	}
	if len(pings) < 5 {
		t.Fatalf("%d WATCHDOG=1 in %s, want about 8 (every %s)\n%s", len(pings), 4*watchdog, watchdog/2, daemonLog())
	}
	prev := ready
	for _, p := range pings {
		if gap := p.Sub(prev); gap >= watchdog {
			t.Errorf("%s without WATCHDOG=1: systemd would have killed the daemon", gap)
		}
		prev = p
	}

	// SIGTERM: STOPPING=1, then a clean exit.
	cmd.Process.Signal(syscall.SIGTERM)
	stopping := false
	timeout := time.After(20 * time.Second)
	for !stopping {
		select {
		case n := <-got:
			stopping = n.has("STOPPING=1")
		case <-timeout:
			t.Fatalf("no STOPPING=1 within 20s of SIGTERM\n%s", daemonLog())
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v\n%s", err, daemonLog())
	}
}
