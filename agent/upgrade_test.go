package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle"

	"github.com/stackagent/stackagent/testenv"
)

// buildAgent builds the agent binary at a given version.
func buildAgent(t *testing.T, dst, ver string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", dst, "-ldflags", "-X main.version="+ver, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", ver, err, out)
	}
}

// TestUpgradeAgent: an upgrade_agent event makes the running daemon
// install another version of itself (here the bare binary, as a package
// would put it at /usr/bin/stackagent) and restart into it without losing
// the event: the new agent reports the event's success, keeps its PID (as
// systemd expects) and serves the next event. A package_url holding another
// version is refused and changes nothing.
func TestUpgradeAgent(t *testing.T) {
	testenv.Short(t, "builds the agent twice")
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "usr/bin/stackagent")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	buildAgent(t, bin, "1.0.0")
	buildAgent(t, filepath.Join(dir, "v2"), "2.0.0")
	buildAgent(t, filepath.Join(dir, "v3"), "3.0.0")
	state := filepath.Join(dir, "state")
	inbox := filepath.Join(state, "inbox")
	os.MkdirAll(inbox, 0o755)
	os.WriteFile(filepath.Join(dir, "none.yaml"), []byte("# all from flags\n"), 0o644)
	logf, _ := os.Create(filepath.Join(dir, "daemon.log"))
	defer logf.Close()
	cmd := exec.Command(bin, "daemon", "--config", filepath.Join(dir, "none.yaml"), "--state-dir", state,
		"--boot-setup", "false", "--metrics-address", "off", "--cookbook-dirs", filepath.Join(dir, "cb"), "--attributes-dir", filepath.Join(dir, "attrs"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	logText := func() string { b, _ := os.ReadFile(filepath.Join(dir, "daemon.log")); return string(b) }

	// A package_url with the wrong version: refused, nothing installed.
	dropEvent(t, inbox, "wrong", map[string]any{"id": "up-wrong", "type": "upgrade_agent", "agent_version": "2.0.0", "package_url": filepath.Join(dir, "v3")})
	waitFor(t, "the refused upgrade", 20*time.Second, func() bool { return readResult(t, inbox, "wrong") != nil })
	if r := readResult(t, inbox, "wrong"); r.Status != lifecycle.StatusFailed || !strings.Contains(r.Output, "holds version 3.0.0, not 2.0.0") {
		t.Fatalf("wrong version: %+v\n%s", r, logText())
	}
	if v, _ := binaryVersion(t.Context(), bin); v != "1.0.0" {
		t.Fatalf("binary changed to %s", v)
	}

	dropEvent(t, inbox, "upgrade", map[string]any{"id": "up-2", "type": "upgrade_agent", "agent_version": "2.0.0", "package_url": filepath.Join(dir, "v2")})
	waitFor(t, "the upgrade's result", 30*time.Second, func() bool { return readResult(t, inbox, "upgrade") != nil })
	r := readResult(t, inbox, "upgrade")
	if r.Status != lifecycle.StatusSuccess || !strings.Contains(r.Output, "running version 2.0.0") {
		t.Fatalf("upgrade result: %+v\n%s", r, logText())
	}
	if v, _ := binaryVersion(t.Context(), bin); v != "2.0.0" {
		t.Fatalf("installed binary is %s", v)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the daemon's process is gone: %v", err)
	}
	if !strings.Contains(logText(), "restarting into the upgraded agent") {
		t.Fatalf("no restart in the log:\n%s", logText())
	}
	// The new agent (same PID) serves the next event.
	dropEvent(t, inbox, "after", map[string]any{"id": "cfg-after", "type": "configure"})
	waitFor(t, "an event after the upgrade", 20*time.Second, func() bool { return readResult(t, inbox, "after") != nil })
	runs, _ := filepath.Glob(filepath.Join(state, "runs", "*up-2*"))
	if len(runs) != 1 {
		t.Fatalf("the upgrade event was reported %d times", len(runs))
	}
	b, _ := os.ReadFile(runs[0])
	var stored lifecycle.Result
	json.Unmarshal(b, &stored)
	if stored.Status != lifecycle.StatusSuccess {
		t.Fatalf("stored result %+v", stored)
	}
}

// TestUpgradePackageOverLimit: a package_url download over the size limit
// is an error that names the limit (it used to be cut off silently and
// the truncated file installed), and leaves no download behind.
func TestUpgradePackageOverLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "stackagent")
	if err := os.WriteFile(pkg, make([]byte, 2<<20+1), 0o755); err != nil {
		t.Fatal(err)
	}
	u := &upgrader{binary: filepath.Join(dir, "bin"), stateDir: filepath.Join(dir, "state"), maxSize: 2 << 20}
	_, err := u.Upgrade(t.Context(), &lifecycle.Event{Type: lifecycle.TypeUpgradeAgent, AgentVersion: "9.9.9", PackageURL: pkg})
	if err == nil || !strings.Contains(err.Error(), "larger than 2 MiB, the limit of an agent package download") {
		t.Fatalf("Upgrade = %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "state", "upgrades")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if _, err := os.Stat(u.binary); !os.IsNotExist(err) {
		t.Fatalf("something was installed: %v", err)
	}
}
