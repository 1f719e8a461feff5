package hostlock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/testenv"
)

func TestLockIsExclusiveAndSaysWhoHoldsIt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "converge.lock")
	l, _, err := TryAcquire(path, "run-recipe app")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks are per open file description: a second open in this
	// process conflicts just as another process would.
	_, h, err := TryAcquire(path, "daemon")
	if !errors.Is(err, ErrBusy) || h == nil || h.Command != "run-recipe app" || h.PID != os.Getpid() {
		t.Fatalf("second acquire: %v, holder %+v", err, h)
	}
	var told []Holder
	done := make(chan error, 1)
	go func() {
		l2, err := Acquire(context.Background(), path, "daemon", func(h Holder) { told = append(told, h) })
		if err == nil {
			l2.Release()
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	l.Release()
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if len(told) != 1 || !strings.Contains(told[0].String(), "run-recipe app") {
		t.Fatalf("waiter was told %v", told)
	}
}

func TestAcquireGivesUpWithContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "converge.lock")
	l, _, err := TryAcquire(path, "holder")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = Acquire(ctx, path, "waiter", nil)
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "held by pid") {
		t.Fatalf("got %v", err)
	}
}

// TestLockAcrossProcesses holds the lock in a real second process (flock
// from util-linux) and checks that we see it busy, then free once it exits.
func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	testenv.Command(t, "flock", "util-linux")
	path := filepath.Join(t.TempDir(), "converge.lock")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("flock", path, "sleep", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, _, err := TryAcquire(path, "probe")
		if errors.Is(err, ErrBusy) {
			break
		}
		l.Release() // flock(1) has not taken it yet: let go and look again
		if time.Now().After(deadline) {
			t.Fatal("never saw the other process's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Wait()
	l, _, err := TryAcquire(path, "after")
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	l.Release()
}
