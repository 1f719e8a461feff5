package lifecycle

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// JournalEntry records that an event was processed (run to its end, or
// skipped, superseded, refused): a later delivery of the same id is
// deleted without a run.
type JournalEntry struct {
	ID     string    `json:"id"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Journal is the persisted set of processed event ids: an append-only file
// of JSON lines, fsync'd after every append, pruned of entries older than
// MaxAge when opened and when Prune is called.
type Journal struct {
	path   string
	maxAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	f       *os.File
	entries map[string]JournalEntry
}

// OpenJournal opens (creating) the journal at path. Lines that do not parse
// (a torn last write after a crash) are dropped with the rest kept.
func OpenJournal(path string, maxAge time.Duration, now func() time.Time) (*Journal, error) {
	if now == nil {
		now = time.Now
	}
	if maxAge <= 0 {
		maxAge = 7 * 24 * time.Hour
	}
	j := &Journal{path: path, maxAge: maxAge, now: now, entries: map[string]JournalEntry{}}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.Open(path)
	if err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			var e JournalEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.ID != "" {
				j.entries[e.ID] = e
			}
		}
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := j.Prune(); err != nil {
		return nil, err
	}
	return j, nil
}

// Done returns the entry of a processed event id.
func (j *Journal) Done(id string) (JournalEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[id]
	return e, ok
}

// Record marks id processed with a status, durably (fsync) before
// returning.
func (j *Journal) Record(id, status string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := JournalEntry{ID: id, Status: status, At: j.now().UTC()}
	b, _ := json.Marshal(e)
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.entries[id] = e
	return nil
}

// Len is the number of entries.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Prune drops entries older than MaxAge and rewrites the file atomically.
func (j *Journal) Prune() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cutoff := j.now().Add(-j.maxAge)
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	w := bufio.NewWriter(f)
	for id, e := range j.entries {
		if e.At.Before(cutoff) {
			delete(j.entries, id)
			continue
		}
		b, _ := json.Marshal(e)
		w.Write(append(b, '\n'))
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A short write must not replace the journal it was compacting.
		os.Remove(tmp)
		return fmt.Errorf("journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	syncDir(filepath.Dir(j.path))
	if j.f != nil {
		j.f.Close()
	}
	j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// InProgress is the record of the event being converged, written before
// the run starts and removed when its result is recorded, so a restart
// after a crash knows what was running and runs it again to its end.
type InProgress struct {
	Event     *Event    `json:"event"`
	MessageID string    `json:"message_id,omitempty"`
	Source    string    `json:"source,omitempty"`
	Started   time.Time `json:"started"`
	PID       int       `json:"pid"`
	// Attempts counts the runs started for this event (crash loops stop at
	// a limit).
	Attempts int `json:"attempts"`
}

// SaveInProgress writes the record atomically and durably.
func SaveInProgress(path string, ip *InProgress) error {
	b, err := json.MarshalIndent(ip, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return fmt.Errorf("in-progress record: %w", err)
	}
	if f, err := os.Open(tmp); err == nil {
		f.Sync()
		f.Close()
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("in-progress record: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// LoadInProgress reads the record; nil when there is none.
func LoadInProgress(path string) (*InProgress, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("in-progress record: %w", err)
	}
	var ip InProgress
	if err := json.Unmarshal(b, &ip); err != nil || ip.Event == nil {
		return nil, fmt.Errorf("in-progress record %s: unreadable, ignored: %v", path, err)
	}
	return &ip, nil
}

// ClearInProgress removes the record.
func ClearInProgress(path string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
