// Package hostlock is the host-wide converge lock: one converge at a time,
// whether the daemon's or an ad-hoc run-recipe. It is an flock(2) on a file
// in the state directory; the holder writes who it is into the file so a
// waiter can say who holds it.
package hostlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Holder describes who holds the lock.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"` // "run-recipe wordpress::deploy", "daemon deploy e-123"
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d (%s) since %s", h.PID, h.Command, h.Since.Format(time.RFC3339))
}

// ErrBusy is returned by TryAcquire when another process holds the lock.
var ErrBusy = errors.New("another converge is running")

// Lock is a held lock.
type Lock struct{ f *os.File }

// TryAcquire takes the lock at path without waiting. When it is held, it
// returns ErrBusy (wrapped) and the holder.
func TryAcquire(path string, who string) (*Lock, *Holder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("converge lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("converge lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		h := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, h, fmt.Errorf("converge lock %s: %w", path, ErrBusy)
		}
		return nil, nil, fmt.Errorf("converge lock %s: %w", path, err)
	}
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Command: who, Since: time.Now().UTC()})
	f.Truncate(0)
	f.WriteAt(append(b, '\n'), 0)
	return &Lock{f: f}, nil, nil
}

// Acquire waits for the lock until ctx is done. Each time it finds the
// lock held by someone new it calls waiting (to tell the operator).
func Acquire(ctx context.Context, path, who string, waiting func(Holder)) (*Lock, error) {
	var last Holder
	for {
		l, h, err := TryAcquire(path, who)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrBusy) {
			return nil, err
		}
		if h != nil && *h != last && waiting != nil {
			last = *h
			waiting(*h)
		}
		select {
		case <-ctx.Done():
			if h != nil {
				return nil, fmt.Errorf("%w: held by %s: %w", err, h, ctx.Err())
			}
			return nil, fmt.Errorf("%w: %w", err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readHolder(f *os.File) *Holder {
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	var h Holder
	if json.Unmarshal(b[:n], &h) != nil {
		return nil
	}
	return &h
}

// Release unlocks. The file stays (removing it would race with waiters).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing releases the flock
	l.f = nil
	return err
}
