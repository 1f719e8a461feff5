package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/internal/runlist"
)

// RunListItem is one entry of a run list: a recipe or a role (the parser
// lives in internal/runlist, which the lifecycle uses too).
type RunListItem = runlist.Item

// ParseRunList parses entries such as "recipe[cb::r]", "cb::r", "cb" and
// "role[web]", comma-separated too.
func ParseRunList(entries ...string) ([]RunListItem, error) { return runlist.Parse(entries...) }

// NormalizeRecipe turns "cb" into "cb::default".
func NormalizeRecipe(name string) string { return runlist.Normalize(name) }

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
// in order, and merges the roles' attributes into the node. As in Chef, the
// node's automatic attributes recipes and roles list the expanded recipes
// and every role the run list names, directly or through roles.
func ExpandRunList(items []RunListItem, rolesDir string, node *Node) ([]string, error) {
	var out, roles []string
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
			if !seen["role "+it.Role] {
				seen["role "+it.Role] = true
				roles = append(roles, it.Role)
			}
			node.Merge(RoleDefault, role.DefaultAttributes)
			node.Merge(RoleOverride, role.OverrideAttributes)
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
	if err := expand(items, nil); err != nil {
		return out, err
	}
	node.Merge(Automatic, map[string]any{"recipes": stringsToAny(out), "roles": stringsToAny(roles)})
	return out, nil
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
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
		return nil, file, fmt.Errorf("%s: %s", file, jsontree.ErrorWhere(b, err))
	}
	if r.Name != "" && r.Name != name {
		return nil, file, fmt.Errorf("%s: field name: %q does not match the file name %q", file, r.Name, name)
	}
	return &r, file, nil
}
