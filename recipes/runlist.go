package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/names"
)

// RunListItem is one entry of a run list: a recipe or a role.
type RunListItem struct {
	Role   string // set for role[name]
	Recipe string // "cb::r" (normalized) for recipes
}

func (i RunListItem) String() string {
	if i.Role != "" {
		return "role[" + i.Role + "]"
	}
	return "recipe[" + i.Recipe + "]"
}

var (
	reRecipe = regexp.MustCompile(`^recipe\[([^\]]+)\]$`)
	reRole   = regexp.MustCompile(`^role\[([^\]]+)\]$`)
)

// validRecipeName tells whether s is "cookbook" or "cookbook::recipe",
// each part a name of the one grammar (internal/names), so neither can
// be ".." or hold a slash.
func validRecipeName(s string) bool {
	cb, r, two := strings.Cut(s, "::")
	return names.Valid(cb) && (!two || names.Valid(r))
}

// ParseRunList parses entries such as "recipe[cb::r]", "cb::r", "cb" and
// "role[web]". Entries may also be comma-separated within one string, as
// chef-solo's -o takes them.
func ParseRunList(entries ...string) ([]RunListItem, error) {
	var out []RunListItem
	for _, e := range entries {
		for _, s := range splitRunList(e) {
			if m := reRole.FindStringSubmatch(s); m != nil {
				if err := names.Check("run list entry "+strconv.Quote(s), "role name", m[1]); err != nil {
					return nil, err
				}
				out = append(out, RunListItem{Role: m[1]})
				continue
			}
			name := s
			if m := reRecipe.FindStringSubmatch(s); m != nil {
				name = m[1]
			}
			if !validRecipeName(name) {
				return nil, fmt.Errorf("run list entry %q: want recipe[cookbook::recipe], cookbook::recipe, cookbook or role[name], each name %s", s, names.Grammar)
			}
			out = append(out, RunListItem{Recipe: NormalizeRecipe(name)})
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

// NormalizeRecipe turns "cb" into "cb::default".
func NormalizeRecipe(name string) string {
	if !strings.Contains(name, "::") {
		return name + "::default"
	}
	return name
}

// Role is a chef-solo role file: ROLES_DIR/NAME.json.
type Role struct {
	Name               string         `json:"name"`
	RunList            []string       `json:"run_list"`
	DefaultAttributes  map[string]any `json:"default_attributes"`
	OverrideAttributes map[string]any `json:"override_attributes"`
}

// ErrRoleLoop is returned (wrapped) when roles include each other.
var ErrRoleLoop = errors.New("role loop")

// ExpandRunList expands roles (read from rolesDir) into recipes, each once,
// in order, and merges the roles' attributes into the node.
func ExpandRunList(items []RunListItem, rolesDir string, node *Node) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var expand func(items []RunListItem, stack []string) error
	expand = func(items []RunListItem, stack []string) error {
		for _, it := range items {
			if it.Recipe != "" {
				if !seen[it.Recipe] {
					seen[it.Recipe] = true
					out = append(out, it.Recipe)
				}
				continue
			}
			for _, s := range stack {
				if s == it.Role {
					return fmt.Errorf("role[%s]: %w: %s", it.Role, ErrRoleLoop, strings.Join(append(stack, it.Role), " -> "))
				}
			}
			role, file, err := loadRole(rolesDir, it.Role)
			if err != nil {
				return err
			}
			node.Merge(Default, role.DefaultAttributes)
			node.Merge(Override, role.OverrideAttributes)
			sub, err := ParseRunList(role.RunList...)
			if err != nil {
				return fmt.Errorf("%s: field run_list: %w", file, err)
			}
			if err := expand(sub, append(stack, it.Role)); err != nil {
				return err
			}
		}
		return nil
	}
	return out, expand(items, nil)
}

func loadRole(dir, name string) (*Role, string, error) {
	if err := names.Check("role["+name+"]", "role name", name); err != nil {
		return nil, "", err
	}
	if dir == "" {
		return nil, "", fmt.Errorf("role[%s]: no roles directory configured (--roles DIR)", name)
	}
	file := filepath.Join(dir, name+".json")
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, file, fmt.Errorf("role[%s]: %w", name, err)
	}
	var r Role
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, file, fmt.Errorf("%s: %s", file, jsonErrorWhere(b, err))
	}
	if r.Name != "" && r.Name != name {
		return nil, file, fmt.Errorf("%s: field name: %q does not match the file name %q", file, r.Name, name)
	}
	return &r, file, nil
}
