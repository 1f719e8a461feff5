// Package runlist parses chef-solo run lists ("recipe[cb::r]", "cb::r",
// "cb", "role[web]") with the one name grammar. The engine and the
// lifecycle share it; it does not import the engine.
package runlist

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/internal/names"
)

// Item is one entry of a run list: a recipe or a role.
type Item struct {
	Role   string // set for role[name]
	Recipe string // "cb::r" (normalized) for recipes
}

func (i Item) String() string {
	if i.Role != "" {
		return "role[" + i.Role + "]"
	}
	return "recipe[" + i.Recipe + "]"
}

var (
	reRecipe = lazyre.New(`^recipe\[([^\]]+)\]$`)
	reRole   = lazyre.New(`^role\[([^\]]+)\]$`)
)

// validRecipeName tells whether s is "cookbook" or "cookbook::recipe",
// each part a name of the one grammar (internal/names), so neither can
// be ".." or hold a slash.
func validRecipeName(s string) bool {
	cb, r, two := strings.Cut(s, "::")
	return names.Valid(cb) && (!two || names.Valid(r))
}

// Parse parses entries such as "recipe[cb::r]", "cb::r", "cb" and
// "role[web]". Entries may also be comma-separated within one string, as
// chef-solo's -o takes them.
func Parse(entries ...string) ([]Item, error) {
	var out []Item
	for _, e := range entries {
		for _, s := range splitRunList(e) {
			if m := reRole().FindStringSubmatch(s); m != nil {
				if err := names.Check("run list entry "+strconv.Quote(s), "role name", m[1]); err != nil {
					return nil, err
				}
				out = append(out, Item{Role: m[1]})
				continue
			}
			name := s
			if m := reRecipe().FindStringSubmatch(s); m != nil {
				name = m[1]
			}
			if !validRecipeName(name) {
				return nil, fmt.Errorf("run list entry %q: want recipe[cookbook::recipe], cookbook::recipe, cookbook or role[name], each name %s", s, names.Grammar)
			}
			out = append(out, Item{Recipe: Normalize(name)})
		}
	}
	return out, nil
}

// splitRunList splits "a,recipe[b::c], role[x]" at commas outside brackets.
func splitRunList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	out = append(out, strings.TrimSpace(s[start:]))
	res := out[:0]
	for _, x := range out {
		if x != "" {
			res = append(res, x)
		}
	}
	return res
}

// Normalize turns "cb" into "cb::default".
func Normalize(name string) string {
	if !strings.Contains(name, "::") {
		return name + "::default"
	}
	return name
}
