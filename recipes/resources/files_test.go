package resources

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

// This file holds the helpers the file-system kinds' tests share.

func fileRegistry() *recipes.Registry {
	g := recipes.NewRegistry()
	registerFiles(g)
	return g
}

// run converges recipe (the test cookbook's default recipe) plus any other
// cookbook files, with root as the run's root.
func run(t *testing.T, root, recipe string, whyRun bool, files ...string) recipestest.Result {
	t.Helper()
	m := map[string]string{"test/recipes/default.lua": recipe}
	for i := 0; i+1 < len(files); i += 2 {
		m[files[i]] = files[i+1]
	}
	return recipestest.Converge(t, fileRegistry(), m, recipestest.Opts{Root: root, WhyRun: whyRun})
}

// mustRun converges and fails the test on a run error or an unexpected
// number of updated resources.
func mustRun(t *testing.T, root, recipe string, wantUpdated int, files ...string) recipestest.Result {
	t.Helper()
	res := run(t, root, recipe, false, files...)
	if res.Err != nil {
		t.Fatalf("run: %v\n%s", res.Err, res.Output)
	}
	if res.Report.UpdatedResources != wantUpdated {
		t.Fatalf("%d resources updated, want %d\n%s", res.Report.UpdatedResources, wantUpdated, res.Output)
	}
	return res
}

// assertConverges runs recipe and checks that it updates one resource
// with every one of changes in the output, or none when changes is empty.
func assertConverges(t *testing.T, root, recipe string, changes []string, files ...string) recipestest.Result {
	t.Helper()
	updated := 0
	if len(changes) > 0 {
		updated = 1
	}
	res := mustRun(t, root, recipe, updated, files...)
	for _, c := range changes {
		if !strings.Contains(res.Output, c) {
			t.Errorf("output lacks %q:\n%s", c, res.Output)
		}
	}
	return res
}

// assertFails runs recipe and checks that the run fails saying want.
func assertFails(t *testing.T, root, recipe, want string, files ...string) recipestest.Result {
	t.Helper()
	res := run(t, root, recipe, false, files...)
	if res.Err == nil || !strings.Contains(res.Output, want) {
		t.Fatalf("err %v, output lacks %q:\n%s", res.Err, want, res.Output)
	}
	return res
}

// newRoot returns a temp root with the given directories made inside it.
func newRoot(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func permOf(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmtMode(nodeOf(fi).perm)
}

// treeState lists everything under root: path, type and mode, modification
// time, and the content's sha256 or the link's target. Two equal states
// mean nothing under root changed.
func treeState(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		n := nodeOf(fi)
		line := fmt.Sprintf("%s %v %04o %d:%d %d", rel, fi.Mode(), n.perm, n.uid, n.gid, fi.ModTime().UnixNano())
		switch {
		case n.isLink:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + to
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// assertWhyRun converges recipe in why-run and checks that nothing under
// root changed while the output says what would have.
func assertWhyRun(t *testing.T, root, recipe string, want []string, files ...string) recipestest.Result {
	t.Helper()
	before := treeState(t, root)
	res := run(t, root, recipe, true, files...)
	if res.Err != nil {
		t.Fatalf("why-run: %v\n%s", res.Err, res.Output)
	}
	if after := treeState(t, root); after != before {
		t.Fatalf("why-run changed the tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, w := range want {
		if !strings.Contains(res.Output, w) {
			t.Errorf("why-run output lacks %q:\n%s", w, res.Output)
		}
	}
	return res
}

// assertNoTemps fails when a staged temp file is left in dir.
func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".stackagent-") {
			t.Errorf("temp file left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

// assertHidden fails when secret appears in the output or the JSON report.
func assertHidden(t *testing.T, res recipestest.Result, secret string) {
	t.Helper()
	rep, err := json.Marshal(res.Report)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Output, secret) || strings.Contains(string(rep), secret) {
		t.Fatalf("sensitive content %q leaked:\n%s\n%s", secret, res.Output, rep)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	testenv.Root(t, "changing owner and group needs root: run the tests as root to cover chown")
}

// TestErrors covers the failures of the file-system kinds: each names what
// is wrong and where.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, recipe, want string }{
		{"file: missing parent", `file "/nope/x" { content = "x" }`, "parent directory /nope does not exist, cannot create /nope/x"},
		{"file: directory", `file "/etc" { content = "x" }`, "/etc: is a directory"},
		{"file: unknown owner", `file "/etc/x" { owner = "no-such-user-xyz" }`, `look up user "no-such-user-xyz"`},
		{"directory: missing parent", `directory "/srv/a/b"`, "parent directory /srv/a does not exist, cannot create /srv/a/b"},
		{"directory: file in the way", `directory "/srv/file"`, "/srv/file exists and is not a directory"},
		{"directory: delete non-empty", `directory "/srv/full" { action = "delete" }`, "directory not empty"},
		{"link: directory in the way", `link "/etc/dir" { to = "/x" }`, "cannot make a link at /etc/dir: it is a directory"},
		{"link: delete a regular file", `link "/etc/v2" { action = "delete" }`, "cannot delete /etc/v2: it is not a symbolic link"},
		{"link: hard link to nothing", `link "/etc/h" { to = "/etc/none", link_type = "hard" }`, "hard link to /etc/none: target does not exist"},
		{"file: relative path", `file "etc/x"`, `path "etc/x" is not absolute`},
		{"directory: dot-dot stays in the root", `directory "/../../srv/file"`, "/../../srv/file exists and is not a directory"},
		{"link: bad link_type", `link "/etc/h" { to = "/x", link_type = "soft" }`, "soft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc/dir", "srv/full/x")
			writeFile(t, filepath.Join(root, "etc/v2"), "v2", 0o644)
			writeFile(t, filepath.Join(root, "srv/file"), "x", 0o644)
			assertFails(t, root, tt.recipe, tt.want)
		})
	}
}
