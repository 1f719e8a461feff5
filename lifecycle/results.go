package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/lazyre"
)

// ResultStore keeps the results of the last runs as JSON files in a
// directory (runs/), newest last, pruned to Keep.
type ResultStore struct {
	Dir  string
	Keep int
}

var unsafeName = lazyre.New(`[^A-Za-z0-9._-]+`)

// Save writes r as runs/<end time>-<event id>.json and prunes old ones.
func (s *ResultStore) Save(r *Result) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	id := unsafeName().ReplaceAllString(r.EventID, "_")
	if len(id) > 80 {
		id = id[:80]
	}
	name := r.End.UTC().Format("20060102T150405.000000000Z") + "-" + id + ".json"
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	path := filepath.Join(s.Dir, name)
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o640); err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	s.prune()
	return path, nil
}

func (s *ResultStore) files() []string {
	ents, _ := os.ReadDir(s.Dir)
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func (s *ResultStore) prune() {
	keep := s.Keep
	if keep <= 0 {
		keep = 50
	}
	files := s.files()
	for len(files) > keep {
		os.Remove(filepath.Join(s.Dir, files[0]))
		files = files[1:]
	}
}

// Last returns up to n results, newest first.
func (s *ResultStore) Last(n int) []*Result {
	files := s.files()
	var out []*Result
	for i := len(files) - 1; i >= 0 && len(out) < n; i-- {
		b, err := os.ReadFile(filepath.Join(s.Dir, files[i]))
		if err != nil {
			continue
		}
		var r Result
		if json.Unmarshal(b, &r) == nil {
			out = append(out, &r)
		}
	}
	return out
}

// Find returns the newest stored result of an event.
func (s *ResultStore) Find(eventID string) *Result {
	for _, r := range s.Last(len(s.files())) {
		if r.EventID == eventID {
			return r
		}
	}
	return nil
}

// Tail returns the last n bytes of s, starting at a line boundary when
// one is near.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	t := s[len(s)-n:]
	if i := strings.IndexByte(t, '\n'); i >= 0 && i < 200 {
		t = t[i+1:]
	}
	return t
}
