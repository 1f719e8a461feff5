package resources

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

func backupsOf(t *testing.T, root, file string) []string {
	t.Helper()
	dir := filepath.Join(root, "var/lib/stackagent/backup", filepath.Dir(file))
	names, _ := filepath.Glob(filepath.Join(dir, filepath.Base(file)+".stackagent-*"))
	var out []string
	for _, n := range names {
		out = append(out, readFile(t, n))
	}
	sort.Strings(out)
	return out
}

// TestFileBackup: replacing or deleting a file keeps its previous
// versions under the state dir, the newest N (backup = N, default 5);
// backup = false keeps none and is no compile error (OpsWorks templates
// say it everywhere).
func TestFileBackup(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	for i, c := range []string{"v1", "v2", "v3", "v4"} {
		mustRun(t, root, `file "/etc/app.conf" { content = "`+c+`", backup = 2 }`, 1)
		if i == 0 && len(backupsOf(t, root, "/etc/app.conf")) != 0 {
			t.Fatal("a new file has nothing to back up")
		}
	}
	if got := strings.Join(backupsOf(t, root, "/etc/app.conf"), ","); got != "v2,v3" {
		t.Fatalf("backups %s, want the two before the current v4: v2,v3", got)
	}
	mustRun(t, root, `file "/etc/app.conf" { action = "delete" }`, 1)
	if got := strings.Join(backupsOf(t, root, "/etc/app.conf"), ","); !strings.Contains(got, "v4") {
		t.Fatalf("delete kept no backup: %s", got)
	}
	dir := filepath.Join(root, "var/lib/stackagent/backup/etc")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("backup dir %v %v, want 0700", fi, err)
	}

	mustRun(t, root, `file "/etc/other" { content = "a", backup = false }`, 1)
	mustRun(t, root, `file "/etc/other" { content = "b", backup = false }`+"\n"+
		`template "/etc/t" { source = "t.erb", backup = false }`, 2, "test/templates/t.erb", "t\n")
	if got := backupsOf(t, root, "/etc/other"); len(got) != 0 {
		t.Fatalf("backup = false kept %v", got)
	}
	assertFails(t, root, `file "/etc/x" { content = "a", backup = "many" }`, "property backup: want false or a number of versions")
}

// TestFileBackupKeepsNoSecret: a file that holds a secret is never copied
// to the backup directory, so a rotated password does not outlive its
// rotation there: not when the resource is sensitive, not when the new
// content holds a credential attribute's value, not when the old one
// does (the file is deleted), while a plain file beside it is backed up.
func TestFileBackupKeepsNoSecret(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	conv := func(recipe string, wantUpdated int, pass string) {
		t.Helper()
		res := recipestest.Converge(t, fileRegistry(), map[string]string{"test/recipes/default.lua": recipe},
			recipestest.Opts{Root: root, Normal: map[string]any{"app": map[string]any{"db_password": pass}}})
		if res.Err != nil || res.Report.UpdatedResources != wantUpdated {
			t.Fatalf("run: %v, %d updated, want %d\n%s", res.Err, res.Report.UpdatedResources, wantUpdated, res.Output)
		}
	}
	for _, pass := range []string{"first-S3cret", "second-S3cret"} {
		conv(`file "/etc/db.conf" { content = "password=" .. node.app.db_password }
file "/etc/flag.conf" { content = "`+pass+`", sensitive = true }
file "/etc/plain.conf" { content = "`+pass[:5]+`" }`, 3, pass)
	}
	for _, f := range []string{"/etc/db.conf", "/etc/flag.conf"} {
		if got := backupsOf(t, root, f); len(got) != 0 {
			t.Errorf("%s: backups %q hold a secret", f, got)
		}
	}
	if got := backupsOf(t, root, "/etc/plain.conf"); len(got) != 1 || got[0] != "first" {
		t.Errorf("plain file: backups %q, want [first]", got)
	}
	conv(`file "/etc/db.conf" { action = "delete" }`, 1, "second-S3cret")
	if got := backupsOf(t, root, "/etc/db.conf"); len(got) != 0 {
		t.Errorf("deleting the file backed up its secret: %q", got)
	}
}
