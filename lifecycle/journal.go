package lifecycle

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// JournalEntry records that an event was processed (run to its end, or
// skipped, superseded, refused): a later delivery of the same id is
// deleted without a run.
//
// An entry is keyed by the SHA-256 of the event id, so its line has a
// bounded size whatever the id (a message may hold a 200 KB id). A short
// id (up to IDKeep bytes) is kept whole in "id", which is also the format
// of journals written before the digest (those lines have no "sha256":
// their digest is computed when read); a longer one keeps a printable
// prefix in "id_prefix", for people reading the file.
type JournalEntry struct {
	ID     string    `json:"id,omitempty"`
	Prefix string    `json:"id_prefix,omitempty"`
	Digest string    `json:"sha256,omitempty"`
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// IDKeep is the longest event id a journal line keeps whole.
const IDKeep = 128

// maxJournalLine bounds a line read back; longer lines (none are written
// now) are skipped, the rest of the file kept.
const maxJournalLine = 8 << 20

// IDDigest is the journal's key for an event id.
func IDDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// ShortID is a printable prefix of an id (64 bytes at most, control
// characters as '?', "…" when cut), for logs, errors and the journal.
func ShortID(id string) string {
	suffix := ""
	if len(id) > 64 {
		id, suffix = id[:64], "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, id) + suffix
}

func newEntry(id string, status Status, at time.Time) JournalEntry {
	e := JournalEntry{Digest: IDDigest(id), Status: status, At: at}
	if len(id) <= IDKeep {
		e.ID = id
	} else {
		e.Prefix = ShortID(id)
	}
	return e
}

// Journal is the persisted set of processed event ids: an append-only file
// of JSON lines, fsync'd after every append, pruned of entries older than
// MaxAge when opened and when Prune is called.
type Journal struct {
	path   string
	maxAge time.Duration
	now    func() time.Time
	// wrap, when set (tests), wraps the writer a Prune fills, to inject
	// faults.
	wrap func(io.Writer) io.Writer

	mu      sync.Mutex
	f       *os.File
	size    int64 // bytes of whole lines in f
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
	if err := j.load(); err != nil {
		return nil, err
	}
	if err := j.Prune(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *Journal) load() error {
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readLine(r, maxJournalLine)
		var e JournalEntry
		if line != nil && json.Unmarshal(line, &e) == nil {
			if e.Digest == "" && e.ID != "" {
				// A line of the format before digests: the whole id.
				e = newEntry(e.ID, e.Status, e.At)
			}
			if e.Digest != "" {
				j.entries[e.Digest] = e
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal %s: %w", j.path, err)
		}
	}
}

// readLine returns the next line without its newline; nil for a line
// longer than limit, which is skipped whole.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if line != nil || len(chunk) > 0 {
			if len(line)+len(chunk) > limit {
				line = []byte{} // too long: drop, but keep reading to its end
				limit = -1
			} else if limit >= 0 {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if limit < 0 {
			return nil, err
		}
		return []byte(strings.TrimSuffix(string(line), "\n")), err
	}
}

// Done returns the entry of a processed event id.
func (j *Journal) Done(id string) (JournalEntry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[IDDigest(id)]
	return e, ok
}

// Record marks id processed with a status, durably (write and fsync)
// before returning. On an error the entry is not recorded: the file is
// cut back to its last whole line and the caller must not acknowledge
// the event.
func (j *Journal) Record(id string, status Status) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("journal %s: closed", j.path)
	}
	e := newEntry(id, status, j.now().UTC())
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	b = append(b, '\n')
	_, err = j.f.Write(b)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		// A torn line would swallow the next one: cut it off.
		if terr := j.f.Truncate(j.size); terr != nil {
			err = errors.Join(err, fmt.Errorf("cut back: %w", terr))
		}
		return fmt.Errorf("journal %s: record %s: %w", j.path, ShortID(id), err)
	}
	j.size += int64(len(b))
	j.entries[e.Digest] = e
	return nil
}

// Len is the number of entries.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Prune drops entries older than MaxAge and rewrites the file atomically
// (internal/atomicfile). When the rewrite fails (a full disk), the
// journal file and the open journal are left as they were and the error
// returned: OpenJournal then fails, so the agent does not start without
// its journal rather than run events again.
func (j *Journal) Prune() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cutoff := j.now().Add(-j.maxAge)
	keep := make([]JournalEntry, 0, len(j.entries))
	for _, e := range j.entries {
		if !e.At.Before(cutoff) {
			keep = append(keep, e)
		}
	}
	sort.Slice(keep, func(a, b int) bool { return keep[a].At.Before(keep[b].At) })
	var size int64
	err := atomicfile.Write(j.path, 0o640, func(w io.Writer) error {
		if j.wrap != nil {
			w = j.wrap(w)
		}
		bw := bufio.NewWriter(w)
		for _, e := range keep {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			n, err := bw.Write(append(b, '\n'))
			size += int64(n)
			if err != nil {
				return err
			}
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("journal: prune: %w", err)
	}
	entries := make(map[string]JournalEntry, len(keep))
	for _, e := range keep {
		entries[e.Digest] = e
	}
	j.entries = entries
	if j.f != nil {
		j.f.Close()
	}
	j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		j.f = nil
		return fmt.Errorf("journal: %w", err)
	}
	j.size = size
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
