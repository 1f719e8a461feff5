package procstatus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPIDAlive: a live process from its pid file; the same pid under
// another command name (a stale pid file); a dead pid; no pid file;
// garbage in it.
func TestPIDAlive(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "svc.pid")
	write := func(s string) {
		if err := os.WriteFile(pidfile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(strconv.Itoa(cmd.Process.Pid) + "\n")
	if ok, why := PIDAlive("", pidfile, "sleep"); !ok {
		t.Errorf("live sleep: not alive (%s)", why)
	}
	if ok, why := PIDAlive("", pidfile, "apache2"); ok || !strings.Contains(why, "stale pid file") {
		t.Errorf("pid of another command: %v %s", ok, why)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	write(strconv.Itoa(dead.Process.Pid))
	if ok, why := PIDAlive("", pidfile, ""); ok {
		t.Errorf("reaped pid: alive (%s)", why)
	}
	write("not a pid")
	if ok, why := PIDAlive("", pidfile, ""); ok || !strings.Contains(why, "holds no pid") {
		t.Errorf("garbage: %v %s", ok, why)
	}
	if ok, why := PIDAlive("", filepath.Join(dir, "none.pid"), ""); ok || !strings.Contains(why, "no pid file") {
		t.Errorf("no pid file: %v %s", ok, why)
	}
}
