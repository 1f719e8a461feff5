package resources

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestNotifyGroup: a changed file notifies the group, which notifies its
// members; an unchanged file notifies nothing.
func TestNotifyGroup(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	o := recipestest.Opts{Root: root}
	recipe := `
file "/a" { content = "a", action = "nothing" }
file "/b" { content = "b", action = "nothing" }
notify_group "both" { notifies = { { "create", "file[/a]", "immediately" }, { "create", "file[/b]" } } }
file "/conf" { content = "c", notifies = { "run", "notify_group[both]", "immediately" } }
`
	sysConverge(t, o, recipe, 4)
	for _, f := range []string{"a", "b"} {
		if !pathExists(filepath.Join(root, f)) {
			t.Fatalf("group member %s not notified", f)
		}
	}
	os.Remove(filepath.Join(root, "a"))
	sysConverge(t, o, recipe, 0) // /conf unchanged: no notification
	if pathExists(filepath.Join(root, "a")) {
		t.Fatal("group ran without a change")
	}
}
