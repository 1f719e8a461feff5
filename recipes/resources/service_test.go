package resources

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

func TestUsesSystemd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	comm := filepath.Join(dir, "comm")
	os.WriteFile(comm, []byte("systemd\n"), 0o644)
	if !usesSystemd(dir, comm) || usesSystemd(filepath.Join(dir, "none"), comm) {
		t.Fatal("systemd detection")
	}
	os.WriteFile(comm, []byte("bash\n"), 0o644)
	if usesSystemd(dir, comm) {
		t.Fatal("PID 1 bash taken for systemd")
	}
}

func cronRunning() bool { return exec.Command("/etc/init.d/cron", "status").Run() == nil }

func cronEnabled() bool {
	links, _ := filepath.Glob("/etc/rc2.d/S??cron")
	return len(links) > 0
}

// TestServiceInitScript drives Debian's cron through its init script and
// update-rc.d, then restores its previous state (installing the package
// if missing and removing it again).
func TestServiceInitScript(t *testing.T) {
	needRoot(t, "installs cron and starts and stops it")
	if hostUsesSystemd() {
		t.Skip("host runs systemd; this test is for init scripts")
	}
	installed := dpkgVersion("cron") != ""
	commonWas := dpkgVersion("cron-daemon-common") != ""
	if !installed {
		if out, err := exec.Command("apt-get", "-y", "-q", "-o", aptLockWait, "install", "cron").CombinedOutput(); err != nil {
			testenv.Require(t, fmt.Sprintf("cron installed (apt-get install cron: %v\n%s)", err, out), false)
		}
	}
	wasRunning, wasEnabled := cronRunning(), cronEnabled()
	t.Cleanup(func() {
		exec.Command("/etc/init.d/cron", "stop").Run()
		if !installed {
			purge := []string{"-y", "-q", "-o", aptLockWait, "purge", "cron"}
			if !commonWas {
				purge = append(purge, "cron-daemon-common") // pulled in by cron
			}
			exec.Command("apt-get", purge...).Run()
			return
		}
		if wasEnabled {
			exec.Command("update-rc.d", "cron", "enable").Run()
		} else {
			exec.Command("update-rc.d", "cron", "disable").Run()
		}
		if wasRunning {
			exec.Command("/etc/init.d/cron", "start").Run()
		}
	})
	exec.Command("/etc/init.d/cron", "stop").Run()
	exec.Command("update-rc.d", "cron", "disable").Run()
	o := recipestest.Opts{}
	res := sysConverge(t, o, `service "cron" { action = {"enable", "start"} }`, 1)
	if !cronRunning() || !cronEnabled() {
		t.Fatalf("running %v enabled %v\n%s", cronRunning(), cronEnabled(), res.Output)
	}
	if !strings.Contains(res.Output, "- start service service[cron]") {
		t.Fatalf("output:\n%s", res.Output)
	}
	sysConverge(t, o, `service "cron" { action = {"enable", "start"} }`, 0)
	pid := func() string { b, _ := os.ReadFile("/run/crond.pid"); return strings.TrimSpace(string(b)) }
	before := pid()
	sysConverge(t, o, `service "cron" { action = "restart" }`, 1)
	if !cronRunning() || pid() == before {
		t.Fatalf("restart: running %v pid %s -> %s", cronRunning(), before, pid())
	}
	sysConverge(t, o, `service "cron" { action = "reload" }`, 1)
	sysConverge(t, o, `service "cron" { action = {"stop", "disable"} }`, 1)
	if cronRunning() || cronEnabled() {
		t.Fatalf("after stop/disable: running %v enabled %v", cronRunning(), cronEnabled())
	}
	sysConverge(t, o, `service "cron" { action = {"stop", "disable", "reload"} }`, 0)
	sysConverge(t, o, `service "cron"`, 0)
}
