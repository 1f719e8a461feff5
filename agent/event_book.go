package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/lifecycle"
)

// resultBook is the controller's local file of the agents' results: every
// result read from a reply queue is written here, by event, and deleted
// from the queue, so no result is read from the queue twice. event send
// --wait and event status read an event's results from here.
//
// Layout: DIR/<hash of the event id>/meta.json (the targets event send
// recorded) and DIR/<hash>/<hash of the instance id>.json (the newest
// result of each host). Ids come from messages anyone with SendMessage on
// the queue could write, so they are hashed, never used as path names.
type resultBook struct {
	dir string
	// keep is how long an event's results are kept after they last
	// changed (pruned on open).
	keep time.Duration
}

// bookKeep is how long results stay in the book.
const bookKeep = 14 * 24 * time.Hour

// eventMeta is what event send knows of an event's targets.
type eventMeta struct {
	EventID   string    `json:"event_id"`
	Instances []string  `json:"instances,omitempty"`
	Expect    int       `json:"expect"`
	SentAt    time.Time `json:"sent_at"`
}

// defaultBookDir is $XDG_CACHE_HOME/stackagent/results (~/.cache/…).
func defaultBookDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("results dir: %w (give --results-dir)", err)
	}
	return filepath.Join(d, "stackagent", "results"), nil
}

// openBook opens (creating) the book at dir and prunes old events.
func openBook(dir string) (*resultBook, error) {
	if dir == "" {
		d, err := defaultBookDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("results dir: %w", err)
	}
	b := &resultBook{dir: dir, keep: bookKeep}
	b.prune(time.Now())
	return b, nil
}

func idHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

func (b *resultBook) eventDir(eventID string) string { return filepath.Join(b.dir, idHash(eventID)) }

// file keeps r as its host's result of its event; a result that ended
// before the one already kept does not replace it.
func (b *resultBook) file(r *lifecycle.Result) error {
	dir := b.eventDir(r.EventID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	path := filepath.Join(dir, idHash(r.InstanceID)+".json")
	if old := readBookResult(path); old != nil && old.End.After(r.End) {
		return nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("file result of %s: %w", r.EventID, err)
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

// setMeta records the targets of an event just sent.
func (b *resultBook) setMeta(m eventMeta) error {
	dir := b.eventDir(m.EventID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	data, _ := json.Marshal(m)
	return atomicfile.WriteFile(filepath.Join(dir, "meta.json"), data, 0o600)
}

// meta returns what event send recorded of the event, if anything.
func (b *resultBook) meta(eventID string) *eventMeta {
	data, err := os.ReadFile(filepath.Join(b.eventDir(eventID), "meta.json"))
	if err != nil {
		return nil
	}
	var m eventMeta
	if json.Unmarshal(data, &m) != nil || m.EventID != eventID {
		return nil
	}
	return &m
}

// results returns the event's results, one per host, by instance id.
func (b *resultBook) results(eventID string) []*lifecycle.Result {
	dir := b.eventDir(eventID)
	ents, _ := os.ReadDir(dir)
	var out []*lifecycle.Result
	for _, e := range ents {
		if e.Name() == "meta.json" || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if r := readBookResult(filepath.Join(dir, e.Name())); r != nil && r.EventID == eventID {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InstanceID < out[j].InstanceID })
	return out
}

func readBookResult(path string) *lifecycle.Result {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var r lifecycle.Result
	if json.Unmarshal(data, &r) != nil {
		return nil
	}
	return &r
}

// prune removes the events whose results last changed before keep.
func (b *resultBook) prune(now time.Time) {
	ents, _ := os.ReadDir(b.dir)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !e.IsDir() || len(e.Name()) != 32 || now.Sub(info.ModTime()) < b.keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(b.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
	}
}
