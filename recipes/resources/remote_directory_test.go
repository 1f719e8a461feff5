package resources

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoteDirectory copies a cookbook tree with the directories' and
// files' modes, is idempotent, purges what the cookbook lacks, and never
// writes through a symlink planted in the target.
func TestRemoteDirectory(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "srv")
	files := []string{"test/files/site/index.html", "<h1>hi</h1>\n", "test/files/site/conf/a.conf", "a=1\n", "test/files/site/conf/deep/b.conf", "b\n"}
	recipe := `remote_directory "/srv/site" { files_mode = "0640", mode = "0750", purge = true }`
	mustRun(t, root, recipe, 1, files...)
	for p, want := range map[string]string{"srv/site/index.html": "<h1>hi</h1>\n", "srv/site/conf/a.conf": "a=1\n", "srv/site/conf/deep/b.conf": "b\n"} {
		if got := readFile(t, filepath.Join(root, p)); got != want {
			t.Errorf("%s = %q", p, got)
		}
		if m := permOf(t, filepath.Join(root, p)); m != "0640" {
			t.Errorf("%s mode %s", p, m)
		}
	}
	if m := permOf(t, filepath.Join(root, "srv/site/conf")); m != "0750" {
		t.Errorf("conf mode %s", m)
	}
	mustRun(t, root, recipe, 0, files...)
	writeFile(t, filepath.Join(root, "srv/site/stale.txt"), "old", 0o644)
	os.Mkdir(filepath.Join(root, "srv/site/olddir"), 0o755)
	res := mustRun(t, root, recipe, 1, files...)
	if pathExists(filepath.Join(root, "srv/site/stale.txt")) || pathExists(filepath.Join(root, "srv/site/olddir")) {
		t.Fatalf("purge left files\n%s", res.Output)
	}
	// A symlink planted where a directory goes is refused, not followed.
	outside := t.TempDir()
	os.RemoveAll(filepath.Join(root, "srv/site/conf"))
	os.Symlink(outside, filepath.Join(root, "srv/site/conf"))
	res = assertFails(t, root, recipe, "srv/site/conf is a symlink", files...)
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("wrote through the link: %v", ents)
	}
	mustRun(t, root, `remote_directory "/srv/site" { action = "delete" }`, 1, files...)
	if pathExists(filepath.Join(root, "srv/site")) {
		t.Fatal("delete left the tree")
	}
}
