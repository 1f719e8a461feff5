package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// InProgress is the record of the event being converged, written before
// the run starts and removed when its result is recorded, so a restart
// after a crash knows what was running and runs it again to its end.
//
// An event that came in a message is recorded as the message's original
// bytes (Message, at most MaxMessageBytes) and parsed again when read, so
// the record is never larger than the message was; only the agent's own
// events (boot setup, drift runs), which have no message, are recorded as
// Event. Records of agents before this one hold Event; they still load.
type InProgress struct {
	Event *Event `json:"event,omitempty"`
	// Message is the body the event came in; Received the time it was
	// parsed with (the fallback for a missing issued_at).
	Message   []byte    `json:"message,omitempty"`
	Received  time.Time `json:"received,omitzero"`
	MessageID string    `json:"message_id,omitempty"`
	Source    string    `json:"source,omitempty"`
	Started   time.Time `json:"started"`
	PID       int       `json:"pid"`
	// Attempts counts the runs started for this event (crash loops stop at
	// a limit).
	Attempts int `json:"attempts"`
	// Interrupted counts the attempts a graceful stop (SIGTERM) cut short;
	// they count toward the cap like crashes.
	Interrupted int `json:"interrupted,omitempty"`
}

// SaveInProgress writes the record atomically and durably
// (internal/atomicfile).
func SaveInProgress(path string, ip *InProgress) error {
	rec := *ip
	if rec.Message != nil {
		rec.Event = nil // parsed again from the message when read
	}
	b, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("in-progress record: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("in-progress record: %w", err)
	}
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
	if err := json.Unmarshal(b, &ip); err != nil {
		return nil, fmt.Errorf("in-progress record %s: unreadable, ignored: %w", path, err)
	}
	if ip.Message != nil {
		ev, err := Parse(ip.Message, ip.Received)
		if err != nil {
			return nil, fmt.Errorf("in-progress record %s: message no longer parses, ignored: %w", path, err)
		}
		ip.Event = ev
	}
	if ip.Event == nil {
		return nil, fmt.Errorf("in-progress record %s: unreadable, ignored: no event", path)
	}
	return &ip, nil
}

// ClearInProgress removes the record.
func ClearInProgress(path string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("in-progress record: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("in-progress record: %w", err)
	}
	return nil
}

// inProgress is the record for a run of ev starting now: the message's
// bytes when there is one (or the previous record's, when a crash
// interrupted the event), and one more attempt than the previous record
// of the same event.
func (d *Daemon) inProgress(ev *Event, m *Message, start time.Time) *InProgress {
	ip := &InProgress{Event: ev, Started: start, PID: os.Getpid(), Attempts: 1}
	prev, err := LoadInProgress(d.inProgressPath())
	if err != nil {
		d.Log.Warn("reading the in-progress record", "error", err)
	}
	if prev != nil && prev.Event.ID == ev.ID {
		ip.Attempts, ip.Interrupted = prev.Attempts+1, prev.Interrupted
		ip.Message, ip.Received, ip.MessageID = prev.Message, prev.Received, prev.MessageID
	}
	if m != nil {
		ip.Message, ip.Received, ip.MessageID = m.Body, m.Received, m.ID
		if ip.Received.IsZero() {
			ip.Received = start
		}
	}
	return ip
}
