package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// Cookbook is one cookbook: NAME/recipes/*.lua, NAME/attributes/*.lua,
// NAME/templates/, NAME/files/, NAME/metadata.json.
type Cookbook struct {
	Name    string
	Version string
	Depends []string
	// FS is rooted at the cookbook's directory.
	FS fs.FS
	// Origin is how files of this cookbook are named in messages: a real
	// directory path, or "embedded:NAME" for the cookbooks built in.
	Origin string
}

// Display names a file of the cookbook for messages.
func (c *Cookbook) Display(rel string) string {
	if strings.HasPrefix(c.Origin, "embedded:") {
		return c.Origin + "/" + rel
	}
	return path.Join(c.Origin, rel)
}

// Recipes lists the cookbook's recipe names (without .lua), sorted.
func (c *Cookbook) Recipes() []string {
	return c.listLua("recipes")
}

func (c *Cookbook) listLua(dir string) []string {
	ents, err := fs.ReadDir(c.FS, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
			out = append(out, strings.TrimSuffix(e.Name(), ".lua"))
		}
	}
	sort.Strings(out)
	return out
}

// metadata is metadata.json.
type metadata struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Depends json.RawMessage `json:"depends"`
}

// CookbookSource is a directory holding cookbook directories.
type CookbookSource struct {
	FS fs.FS
	// Origin is the directory's path for messages, or "embedded".
	Origin string
}

// CookbookSet is the cookbooks of a run, by name.
type CookbookSet struct {
	books map[string]*Cookbook
}

// ErrNoCookbook is returned (wrapped) for a run list or include_recipe that
// names a cookbook that is not there.
var ErrNoCookbook = errors.New("cookbook not found")

// LoadCookbooks reads the cookbooks of the given sources. A cookbook in a
// later source replaces one of the same name from an earlier source, so pass
// the embedded cookbooks first and site directories after them, the one
// that wins last. Every bad metadata.json is reported; the good cookbooks are
// still returned.
func LoadCookbooks(sources ...CookbookSource) (*CookbookSet, []error) {
	set := &CookbookSet{books: map[string]*Cookbook{}}
	var errs []error
	for _, src := range sources {
		ents, err := fs.ReadDir(src.FS, ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("read cookbooks %s: %w", src.Origin, err))
			continue
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			sub, _ := fs.Sub(src.FS, e.Name())
			cb := &Cookbook{Name: e.Name(), FS: sub, Origin: path.Join(src.Origin, e.Name())}
			if src.Origin == "embedded" {
				cb.Origin = "embedded:" + e.Name()
			}
			if err := cb.readMetadata(); err != nil {
				errs = append(errs, err)
				continue
			}
			set.books[cb.Name] = cb
		}
	}
	for _, cb := range set.sorted() {
		for _, d := range cb.Depends {
			if _, ok := set.books[d]; !ok {
				errs = append(errs, fmt.Errorf("%s: depends on cookbook %q: %w", cb.Display("metadata.json"), d, ErrNoCookbook))
			}
		}
	}
	return set, errs
}

func (c *Cookbook) readMetadata() error {
	b, err := fs.ReadFile(c.FS, "metadata.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", c.Display("metadata.json"), err)
	}
	var m metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %s", c.Display("metadata.json"), jsontree.ErrorWhere(b, err))
	}
	if m.Name != "" && m.Name != c.Name {
		return fmt.Errorf("%s: name %q does not match the directory %q", c.Display("metadata.json"), m.Name, c.Name)
	}
	c.Version = m.Version
	if len(m.Depends) > 0 {
		// depends is a list of names or, as Chef's metadata.json has it, a
		// map of name to version constraint.
		var list []string
		var dict map[string]string
		if json.Unmarshal(m.Depends, &list) == nil {
			c.Depends = list
		} else if json.Unmarshal(m.Depends, &dict) == nil {
			for k := range dict {
				c.Depends = append(c.Depends, k)
			}
			sort.Strings(c.Depends)
		} else {
			return fmt.Errorf("%s: field depends: want a list of cookbook names or a map of name to version", c.Display("metadata.json"))
		}
	}
	return nil
}

// Get returns a cookbook by name.
func (s *CookbookSet) Get(name string) (*Cookbook, bool) {
	cb, ok := s.books[name]
	return cb, ok
}

// All returns the cookbooks sorted by name.
func (s *CookbookSet) All() []*Cookbook { return s.sorted() }

func (s *CookbookSet) sorted() []*Cookbook {
	out := make([]*Cookbook, 0, len(s.books))
	for _, cb := range s.books {
		out = append(out, cb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// closure returns the cookbooks the named ones depend on, dependencies
// first, each once.
func (s *CookbookSet) closure(names []string) ([]*Cookbook, error) {
	var out []*Cookbook
	seen := map[string]bool{}
	var visit func(n, from string) error
	visit = func(n, from string) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		cb, ok := s.books[n]
		if !ok {
			if from != "" {
				return fmt.Errorf("cookbook %q (a dependency of %q): %w", n, from, ErrNoCookbook)
			}
			return fmt.Errorf("cookbook %q: %w", n, ErrNoCookbook)
		}
		for _, d := range cb.Depends {
			if err := visit(d, n); err != nil {
				return err
			}
		}
		out = append(out, cb)
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadJSONFile reads a JSON object from a file (an attributes file, -j),
// with numbers kept exact. Errors name the file, line and column.
func ReadJSONFile(file string) (map[string]any, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseJSONObject(file, b)
}

// ParseJSONObject parses a JSON object; name is used in errors.
func ParseJSONObject(name string, b []byte) (map[string]any, error) {
	return jsontree.ParseObject(name, b)
}
