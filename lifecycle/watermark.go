package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// The ordering rule. Events that carry state (the stack configuration, an
// app's release) must not be undone by an older one arriving late: SQS
// standard queues do not keep order, and a message comes back after its
// visibility timeout. The agent keeps, per state key, the newest event it
// ran (the watermark, in state_dir/applied.json) and refuses an older one
// with a superseded result naming the newer.
//
//   - configure: one key, "configure".
//   - deploy (every command) and undeploy for app A: key "app/A"; without
//     an app (every app): key "app/*".
//   - setup, shutdown, execute_recipes, update_custom_cookbooks,
//     upgrade_agent, and the agent's own drift-correction runs are commands,
//     not states: never refused by age, never moving a watermark.
//
// "Older" is Newer's order: by sequence when both events carry one, else
// by issued_at. An event as new as the watermark (same time) runs.

// WatermarkFile is the watermark store's name in the state directory.
const WatermarkFile = "applied.json"

// Watermark is the newest event that ran for one state key.
type Watermark struct {
	EventID  string    `json:"event_id"`
	IssuedAt time.Time `json:"issued_at"`
	Sequence uint64    `json:"sequence,omitempty"`
	// Applied is when its run ended.
	Applied time.Time `json:"applied"`
}

// Watermarks is the persisted watermark per state key. Safe for
// concurrent use.
type Watermarks struct {
	path  string
	mu    sync.Mutex
	marks map[string]Watermark
}

// OpenWatermarks reads the store at path (missing: empty).
func OpenWatermarks(path string) (*Watermarks, error) {
	w := &Watermarks{path: path, marks: map[string]Watermark{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return w, nil
	case err != nil:
		return w, fmt.Errorf("watermarks: %w", err)
	}
	if err := json.Unmarshal(b, &w.marks); err != nil {
		w.marks = map[string]Watermark{}
		return w, fmt.Errorf("watermarks %s: unreadable, starting empty: %w", path, err)
	}
	return w, nil
}

// StateKey is the watermark key of ev, "" for an event that carries no
// state (see the ordering rule above).
func StateKey(ev *Event) string {
	if ev.Envelope == EnvelopeDrift {
		return ""
	}
	switch ev.Type {
	case TypeConfigure:
		return TypeConfigure
	case TypeDeploy, TypeUndeploy:
		if ev.App == "" {
			return "app/*"
		}
		return "app/" + ev.App
	}
	return ""
}

// Newer tells whether a is newer than b: by Sequence when both carry one,
// else by IssuedAt.
func Newer(a, b *Event) bool {
	if a.Sequence > 0 && b.Sequence > 0 {
		return a.Sequence > b.Sequence
	}
	return a.IssuedAt.After(b.IssuedAt)
}

// Older returns the watermark that makes ev stale, if any: a newer event
// of the same state key already ran.
func (w *Watermarks) Older(ev *Event) (Watermark, bool) {
	key := StateKey(ev)
	if key == "" {
		return Watermark{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	m, ok := w.marks[key]
	if !ok || m.EventID == shortID(ev.ID) {
		return Watermark{}, false
	}
	applied := &Event{IssuedAt: m.IssuedAt, Sequence: m.Sequence}
	return m, Newer(applied, ev)
}

// Advance records that ev ran, when it is newer than the watermark of its
// key, and persists the store atomically.
func (w *Watermarks) Advance(ev *Event, at time.Time) error {
	key := StateKey(ev)
	if key == "" {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if m, ok := w.marks[key]; ok && Newer(&Event{IssuedAt: m.IssuedAt, Sequence: m.Sequence}, ev) {
		return nil
	}
	w.marks[key] = Watermark{EventID: shortID(ev.ID), IssuedAt: ev.IssuedAt.UTC(), Sequence: ev.Sequence, Applied: at.UTC()}
	b, err := json.MarshalIndent(w.marks, "", "  ")
	if err != nil {
		return fmt.Errorf("watermarks: %w", err)
	}
	if err := atomicfile.WriteFile(w.path, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("watermarks: %w", err)
	}
	return nil
}

// shortID keeps an id printable and bounded: ids of up to 128 bytes as
// they are, longer ones as a prefix and a digest.
func shortID(id string) string {
	if len(id) <= 128 {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return id[:64] + "…sha256:" + hex.EncodeToString(sum[:16])
}

// supersededBy is the reason of a result refused by a newer event.
func supersededBy(kind, id string, issued time.Time, seq uint64) string {
	s := fmt.Sprintf("superseded: %s %s (issued_at %s", kind, id, issued.UTC().Format(time.RFC3339Nano))
	if seq > 0 {
		s += fmt.Sprintf(", sequence %d", seq)
	}
	return s + ") is newer"
}
