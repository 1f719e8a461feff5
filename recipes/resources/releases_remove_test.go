package resources

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// A rollback run again for the same event (the agent killed between the
// switch and the event's journal entry) is up to date; another event
// rolls back one more release.
func TestDeployRollbackOncePerEvent(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := deployVersions(t, root, "", 3)
	names := releaseNames(t, root)
	rollback := func(event string, wantUpdated int) {
		t.Helper()
		res := recipestest.Converge(t, deployRegistry(), map[string]string{"test/recipes/default.lua": deployRecipe(props + `, action = "rollback"`)},
			recipestest.Opts{Root: root, Normal: map[string]any{"stackagent": map[string]any{"event": map[string]any{"id": event}}}})
		if res.Err != nil || res.Report.UpdatedResources != wantUpdated {
			t.Fatalf("rollback for %s: %v, %d updated, want %d\n%s", event, res.Err, res.Report.UpdatedResources, wantUpdated, res.Output)
		}
	}
	rollback("ev-1", 1)
	rollback("ev-1", 0)
	if cur := currentName(t, root); cur != names[1] {
		t.Fatalf("after ev-1 twice: current %s, want %s", cur, names[1])
	}
	// The record written, the switch not made (killed in between): the
	// run again makes the same switch.
	if err := openSet(t, root).Switch(names[2]); err != nil {
		t.Fatal(err)
	}
	if err := openSet(t, root).recordRollback("ev-2", names[2], names[1]); err != nil {
		t.Fatal(err)
	}
	rollback("ev-2", 1)
	if cur := currentName(t, root); cur != names[1] {
		t.Fatalf("after ev-2: current %s, want %s", cur, names[1])
	}
	rollback("ev-3", 1)
	if cur := currentName(t, root); cur != names[0] {
		t.Fatalf("after ev-3: current %s, want %s", cur, names[0])
	}
}

// A release removal cut short leaves nothing that reads as a release, and
// the next deploy clears it.
func TestHalfRemovedReleaseIsNotARelease(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	props := deployVersions(t, root, "", 3)
	set := openSet(t, root)
	names := releaseNames(t, root)
	// What removeRelease leaves when killed after its rename.
	gone := filepath.Join(set.Dir(), "releases", removingPrefix+names[0]+"-abc")
	if err := os.Rename(set.Path(names[0]), gone); err != nil {
		t.Fatal(err)
	}
	if got := releaseNames(t, root); len(got) != 2 || got[0] != names[1] {
		t.Fatalf("releases %v with %s half-removed", got, names[0])
	}
	mustDeploy(t, root, deployRecipe(props), 1) // unchanged source: only the clean-up
	if _, err := os.Lstat(gone); !os.IsNotExist(err) {
		t.Fatalf("%s left: %v", gone, err)
	}
	if _, err := set.Prune(1); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(set.Dir(), "releases", ".*"))
	if len(left) != 0 {
		t.Fatalf("prune left %v", left)
	}
}
