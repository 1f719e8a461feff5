// Package e2e holds the end-to-end tests: the agent binary driven as an
// operator would drive it (the daemon and its local inbox, the CLI)
// against the real services of the host — Apache, PHP, MariaDB, mounts,
// /etc/fstab. They need root and skip themselves otherwise; set
// STACKAGENT_E2E=0 to skip them as root too. See docs/wordpress.md, "How
// it is tested".
package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// ApacheLockPath is the lock every test that uses the host's Apache holds
// for its whole run: Apache (its config, modules, port 80) is one per
// host, and tests of several packages (this one, the auto-healing tests)
// run at the same time.
const ApacheLockPath = "/run/lock/stackagent-apache-tests.lock"

// LockApache takes an exclusive flock(2) on ApacheLockPath, waiting for
// the holder if there is one, and releases it when t ends.
func LockApache(t testing.TB) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(ApacheLockPath), 0o755); err != nil {
		t.Fatalf("apache lock: %v", err)
	}
	f, err := os.OpenFile(ApacheLockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("apache lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("apache lock: %s is held by another test; waiting", ApacheLockPath)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("apache lock %s: %v", ApacheLockPath, err)
		}
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
