package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/names"
)

func TestParseRunListRefusesPathNames(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"role[../../x]", "role[..]", "role[a/b]", "role[.hidden]", "..", "..::x", "cb::..",
		"recipe[../x::y]", "recipe[cb::a/b]", "role[" + strings.Repeat("a", 65) + "]"} {
		if items, err := ParseRunList(bad); err == nil {
			t.Errorf("ParseRunList(%q) = %v; want an error", bad, items)
		}
	}
	items, err := ParseRunList("recipe[php::fpm_pool], apache2, role[web-1.x]")
	if err != nil || len(items) != 3 || items[2].Role != "web-1.x" || items[0].Recipe != "php::fpm_pool" {
		t.Fatalf("ParseRunList = %v, %v", items, err)
	}
}

// TestRoleNameCannotLeaveRolesDir: a role named by a path is refused
// before any file is read, even when ExpandRunList is handed the item
// directly (a role file's own run_list goes through ParseRunList).
func TestRoleNameCannotLeaveRolesDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	roles := filepath.Join(root, "roles")
	os.Mkdir(roles, 0o755)
	os.WriteFile(filepath.Join(root, "x.json"), []byte(`{"run_list":["evil"]}`), 0o644)
	_, err := ExpandRunList([]RunListItem{{Role: "../x"}}, roles, NewNode("h"))
	if err == nil || !strings.Contains(err.Error(), "invalid role name") {
		t.Fatalf("ExpandRunList(role[../x]) = %v; want invalid role name", err)
	}
}

// FuzzParseRunList: whatever the entry, ParseRunList never panics and
// every role or cookbook it returns is a name of the grammar (so never a
// path).
func FuzzParseRunList(f *testing.F) {
	for _, s := range []string{"role[../../x]", "recipe[cb::r]", "cb", "a,role[b], recipe[c::d]", "..::x",
		"role[a]]", "recipe[[x]]", "role[]", ",,,", "cb::r::s", "role[x\n]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := ParseRunList(s)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Role != "" {
				if !names.Valid(it.Role) {
					t.Fatalf("role %q accepted", it.Role)
				}
				continue
			}
			cb, r, ok := strings.Cut(it.Recipe, "::")
			if !ok || !names.Valid(cb) || !names.Valid(r) {
				t.Fatalf("recipe %q accepted", it.Recipe)
			}
		}
	})
}
