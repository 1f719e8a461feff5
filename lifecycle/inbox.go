package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// InboxSource is the local inbox directory: an event file (NAME.json)
// dropped there is run, then moved aside to processed/ with its result
// beside it (NAME.result.json), or to failed/ with the reason when it
// cannot be read as an event. It is the source when no queue is
// configured, so the daemon runs with no AWS at all.
//
// Drop files atomically: write them elsewhere on the same file system (or
// as a dot-file in the inbox) and rename them in. As a guard, a file is
// only taken once it has not changed for Settle.
type InboxSource struct {
	Dir    string
	Settle time.Duration
	// Rescan is how often the directory is listed even without a
	// notification (a safety net; fsnotify does the work).
	Rescan time.Duration
	// RetryDelay is how long a file handed back (Release: the daemon
	// stopping, or unable to record the event as in progress on a full
	// disk) waits before it is taken again, so a fault does not spin.
	RetryDelay time.Duration
	Log        *slog.Logger

	w        *fsnotify.Watcher
	mu       sync.Mutex
	inflight map[string]bool
	retry    map[string]time.Time // released files: not before
}

var (
	_ Source   = (*InboxSource)(nil)
	_ Releaser = (*InboxSource)(nil)
)

// NewInboxSource creates the inbox directories and starts watching.
func NewInboxSource(dir string, log *slog.Logger) (*InboxSource, error) {
	return newInboxSource(dir, log, watchInboxDir)
}

func newInboxSource(dir string, log *slog.Logger, watch func(dir string) (*fsnotify.Watcher, error)) (*InboxSource, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{dir, filepath.Join(dir, "processed"), filepath.Join(dir, "failed")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
	}
	s := &InboxSource{Dir: dir, Settle: 100 * time.Millisecond, Rescan: 5 * time.Second, RetryDelay: 2 * time.Second,
		Log: log, inflight: map[string]bool{}, retry: map[string]time.Time{}}
	s.w = s.watchOrPoll(dir, watch)
	return s, nil
}

// inboxPoll is the rescan interval of an inbox that cannot be watched.
const inboxPoll = time.Second

// watchOrPoll watches dir with inotify; when it cannot (the per-user
// inotify limits are reached), it says so and the inbox is listed every
// inboxPoll instead: events still arrive, a second later at most.
func (s *InboxSource) watchOrPoll(dir string, watch func(string) (*fsnotify.Watcher, error)) *fsnotify.Watcher {
	w, err := watch(dir)
	if err == nil {
		return w
	}
	s.Log.Warn("cannot watch the inbox; listing it every second instead", "dir", dir, "error", err, "why", InotifyHint(err))
	s.Rescan = inboxPoll
	return nil
}

// InotifyHint says which limit an inotify error is about.
func InotifyHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the inotify watch limit is reached (sysctl fs.inotify.max_user_watches)"
	case errors.Is(err, syscall.EMFILE):
		return "the inotify instance limit is reached (sysctl fs.inotify.max_user_instances)"
	}
	return "inotify is not available"
}

func watchInboxDir(dir string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("inbox: watch %s: %w", dir, err)
	}
	return w, nil
}

// Close stops watching.
func (s *InboxSource) Close() error {
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}

// Receive returns the event files waiting in the inbox, oldest first,
// blocking until there is one or ctx is done.
func (s *InboxSource) Receive(ctx context.Context) ([]*Message, error) {
	tick := time.NewTicker(s.Rescan)
	defer tick.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if s.w != nil { // nil: polling (watchOrPoll)
		events, errs = s.w.Events, s.w.Errors
	}
	for {
		msgs, wait, err := s.scan()
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		var settle <-chan time.Time
		if wait > 0 {
			settle = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case ev, ok := <-events:
			if !ok {
				return nil, errors.New("inbox: watcher closed")
			}
			s.Log.Debug("inbox event", "file", ev.Name, "op", ev.Op.String())
		case err := <-errs:
			s.Log.Warn("inbox watcher", "error", err)
		case <-settle:
		case <-tick.C:
		}
	}
}

// scan lists ready files. wait > 0 says a file is there but not settled.
func (s *InboxSource) scan() ([]*Message, time.Duration, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, 0, fmt.Errorf("inbox: %w", err)
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	var wait time.Duration
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") || s.inflight[name] {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		ready := info.ModTime().Add(s.Settle)
		if r, ok := s.retry[name]; ok && r.After(ready) {
			ready = r
		}
		if ready.After(now) {
			if w := ready.Sub(now); wait == 0 || w < wait {
				wait = w
			}
			continue
		}
		delete(s.retry, name)
		files = append(files, file{name, info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.Before(files[j].mod)
		}
		return files[i].name < files[j].name
	})
	var msgs []*Message
	for _, f := range files {
		path := filepath.Join(s.Dir, f.name)
		body, err := readAtMost(path, MaxMessageBytes+1)
		if err != nil {
			continue // gone meanwhile
		}
		s.inflight[f.name] = true
		msgs = append(msgs, &Message{ID: f.name, Body: body, ReceiveCount: 1, Received: now, Handle: path})
	}
	if len(msgs) == 0 && wait == 0 && len(files) == 0 {
		return nil, 0, nil
	}
	return msgs, wait, nil
}

// Delete moves the file to processed/.
func (s *InboxSource) Delete(_ context.Context, m *Message) error {
	return s.moveTo(m, "processed")
}

// Release hands the file back: a Receive returns it again after
// RetryDelay.
func (s *InboxSource) Release(_ context.Context, m *Message) error {
	s.mu.Lock()
	delete(s.inflight, m.ID)
	s.retry[m.ID] = time.Now().Add(s.RetryDelay)
	s.mu.Unlock()
	return nil
}

// Reject moves a file that is not an event to failed/, with the reason in
// failed/NAME.reason.
func (s *InboxSource) Reject(_ context.Context, m *Message, reason string) error {
	if err := atomicfile.WriteFile(filepath.Join(s.Dir, "failed", m.ID+".reason"), []byte(reason+"\n"), 0o640); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return s.moveTo(m, "failed")
}

// RecordResult writes processed/NAME.result.json next to the moved event.
func (s *InboxSource) RecordResult(m *Message, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("inbox: result of %s: %w", m.ID, err)
	}
	name := strings.TrimSuffix(m.ID, ".json") + ".result.json"
	if err := atomicfile.WriteFile(filepath.Join(s.Dir, "processed", name), append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// readAtMost reads up to n bytes of a file: an inbox file larger than a
// message may be is read only far enough for Parse to refuse it.
func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

func (s *InboxSource) moveTo(m *Message, sub string) error {
	s.mu.Lock()
	delete(s.inflight, m.ID)
	delete(s.retry, m.ID)
	s.mu.Unlock()
	dst := filepath.Join(s.Dir, sub, m.ID)
	if _, err := os.Stat(dst); err == nil {
		dst = filepath.Join(s.Dir, sub, fmt.Sprintf("%s.%d", m.ID, time.Now().UnixNano()))
	}
	if err := os.Rename(m.Handle, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}
