package e2e

// The host side of the end-to-end tests: the guard, the agent binary,
// MariaDB, /etc/fstab, Apache's state.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/testenv"
)

// requireE2E skips t unless it runs as root, not -short, with
// STACKAGENT_E2E not "0" and the Debian packages it needs installed; under
// CI as root a missing package (or the opt-out) fails instead (testenv).
func requireE2E(t *testing.T, commands ...string) {
	t.Helper()
	testenv.Root(t, "e2e: installs packages, drives Apache and MariaDB, mounts, edits /etc/fstab; run as root or leave it to CI (make test)")
	testenv.Require(t, "e2e enabled (STACKAGENT_E2E=0 turns it off)", os.Getenv("STACKAGENT_E2E") != "0")
	for _, c := range commands {
		testenv.Command(t, c, "scripts/test-deps.sh installs it, as root")
	}
}

// requireWordPressTree: Debian's WordPress, which the e2e tests deploy.
func requireWordPressTree(t *testing.T) {
	t.Helper()
	_, err := os.Stat(filepath.Join(wordpressTree, "wp-login.php"))
	testenv.Require(t, wordpressTree+" (Debian's wordpress package; scripts/test-deps.sh installs it, as root)", err == nil)
}

// buildAgent builds the agent binary into a temp dir, as make build does.
func buildAgent(t *testing.T) string {
	t.Helper()
	start := time.Now()
	bin := filepath.Join(t.TempDir(), "stackagent")
	// go test puts its own GOROOT/bin first in PATH.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./agent")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./agent: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

func runErr(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// mariadbUp reports whether the MariaDB server answers on its socket.
func mariadbUp() bool {
	_, err := runErr("mysqladmin", "--protocol=socket", "ping")
	return err == nil
}

// ensureMariaDB starts MariaDB if it is not running and, if it started
// it, stops it when t ends: the host is left as found.
func ensureMariaDB(t *testing.T) {
	t.Helper()
	if mariadbUp() {
		return
	}
	_, err := os.Stat("/etc/init.d/mariadb")
	testenv.Require(t, "mariadb-server (scripts/test-deps.sh installs it, as root)", err == nil)
	if out, err := runErr("service", "mariadb", "start"); err != nil {
		if out2, err2 := runErr("/etc/init.d/mariadb", "start"); err2 != nil {
			t.Fatalf("start mariadb: %v\n%s\n%v\n%s", err, out, err2, out2)
		}
	}
	t.Log("started MariaDB (it was stopped); it is stopped again at the end")
	t.Cleanup(func() {
		if out, err := runErr("/etc/init.d/mariadb", "stop"); err != nil {
			t.Errorf("stop mariadb: %v\n%s", err, out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !mariadbUp() {
		if time.Now().After(deadline) {
			t.Fatal("mariadb does not answer 30s after start")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mysql runs SQL as MariaDB's root over the socket (unix_socket auth).
func mysql(t *testing.T, sql string) {
	t.Helper()
	cmd := exec.Command("mysql", "--protocol=socket", "-u", "root", "--batch")
	cmd.Stdin = strings.NewReader(sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mysql: %v\n%s", err, out) // the SQL is not shown: it may hold the password
	}
}

// keepFstab restores /etc/fstab byte for byte (and its mode) when t ends.
func keepFstab(t *testing.T) {
	t.Helper()
	const path = "/etc/fstab"
	fi, statErr := os.Stat(path)
	orig, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", path, err)
	}
	t.Cleanup(func() {
		if statErr != nil {
			os.Remove(path)
			return
		}
		now, _ := os.ReadFile(path)
		if bytes.Equal(now, orig) {
			return
		}
		if err := os.WriteFile(path, orig, fi.Mode().Perm()); err != nil {
			t.Errorf("restore %s: %v", path, err)
		}
	})
}

// fstabLines returns the lines of /etc/fstab.
func fstabLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/etc/fstab")
	if err != nil {
		t.Fatalf("read /etc/fstab: %v", err)
	}
	return strings.Split(string(b), "\n")
}

// mounted reports whether dir is a mount point (in /proc/self/mountinfo).
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// apachePID returns the pid of Apache's parent process, "" when it is
// not running. A graceful reload keeps it; a restart by the init script
// (stop, start) changes it.
func apachePID() string {
	b, err := os.ReadFile("/var/run/apache2/apache2.pid")
	if err != nil {
		return ""
	}
	pid := strings.TrimSpace(string(b))
	if _, err := os.Stat("/proc/" + pid); err != nil {
		return ""
	}
	return pid
}

// stopApache stops Apache through its init script if it runs.
func stopApache(t *testing.T) {
	t.Helper()
	if apachePID() == "" {
		return
	}
	if out, err := runErr("/etc/init.d/apache2", "stop"); err != nil {
		t.Errorf("stop apache2: %v\n%s", err, out)
	}
}
