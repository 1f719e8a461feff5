package recipes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stagingKind stages a file in the run's staging directory, then ends the
// way the resource's name says: "ok", "error" or "panic".
func stagingKind(t *testing.T, parent string) *Kind {
	return &Kind{Name: "stage", Actions: []string{"run"}, DefaultAction: "run",
		Provider: ProviderFunc(func(_ context.Context, rc *RunContext, r *Resource, _ string) ([]Step, error) {
			dir, err := rc.StagingDir()
			if err != nil {
				return nil, err
			}
			if again, _ := rc.StagingDir(); again != dir || filepath.Dir(dir) != parent {
				t.Errorf("staging %q then %q, want one directory in %s", dir, again, parent)
			}
			if err := os.WriteFile(filepath.Join(dir, "part"), []byte("half a download"), 0o600); err != nil {
				return nil, err
			}
			switch r.Name {
			case "error":
				return nil, errors.New("download failed")
			case "panic":
				panic("provider bug")
			}
			return nil, nil
		})}
}

// TestStagingRemovedOnEveryExit ends runs that staged a file with success,
// an error and a provider panic: the staging parent is empty after each.
func TestStagingRemovedOnEveryExit(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"ok", "error", "panic"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			reg := NewRegistry()
			reg.Register(stagingKind(t, parent))
			items, _ := ParseRunList("test")
			_, err := Run(context.Background(), Options{Registry: reg, Node: NewNode("test"), RunList: items,
				Cookbooks: books(t, map[string]string{"test/recipes/default.lua": `stage "` + end + `"`}), StagingParent: parent})
			if (err != nil) != (end != "ok") || (end == "panic" && !strings.Contains(err.Error(), "provider panic")) {
				t.Fatalf("run: %v", err)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Fatalf("staging parent holds %v after the run", left)
			}
		})
	}
}

func TestStagingDirOutsideRun(t *testing.T) {
	t.Parallel()
	if _, err := (&RunContext{}).StagingDir(); err == nil {
		t.Fatal("a staging directory outside a run")
	}
}
