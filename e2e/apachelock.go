// Package e2e holds the end-to-end tests: the agent binary driven as an
// operator would drive it (the daemon and its local inbox, the CLI)
// against the real services of the host — Apache, PHP, MariaDB, mounts,
// /etc/fstab. They need root and skip themselves otherwise; set
// STACKAGENT_E2E=0 to skip them as root too. See docs/wordpress.md, "How
// it is tested".
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ApacheLockPath is the lock every test that uses the host's Apache holds
// for its whole run: Apache (its config, modules, port 80) is one per
// host, and tests of several packages (this one, the auto-healing tests)
// run at the same time.
const ApacheLockPath = "/run/lock/stackagent-apache-tests.lock"

// LockApache takes an exclusive flock(2) on ApacheLockPath, waiting for
// the holder if there is one, and releases it when t ends. The holder
// writes its test, pid and start time into the file; a waiter says whom
// it waits for and, once it holds the lock, how long it waited and the
// release how long it held it: on stderr, so the long waits of a CI run
// show without -v.
func LockApache(t testing.TB) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(ApacheLockPath), 0o755); err != nil {
		t.Fatalf("apache lock: %v", err)
	}
	f, err := os.OpenFile(ApacheLockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("apache lock: %v", err)
	}
	say := func(format string, a ...any) {
		msg := fmt.Sprintf("apache lock: "+format, a...)
		t.Log(msg)
		fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().UTC().Format(time.TimeOnly), t.Name(), msg)
	}
	began := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(ApacheLockPath)
		say("waiting for %s (%s)", ApacheLockPath, strings.TrimSpace(string(holder)))
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("apache lock %s: %v", ApacheLockPath, err)
		}
	}
	say("acquired after waiting %s", time.Since(began).Round(time.Millisecond))
	held := time.Now()
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("held by %s, pid %d, since %s\n", t.Name(), os.Getpid(), held.UTC().Format(time.RFC3339))), 0)
	t.Cleanup(func() {
		say("released after holding it %s", time.Since(held).Round(time.Millisecond))
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
