package resources

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLinkActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string)
		recipe  string
		changes []string
		check   func(t *testing.T, root string)
	}{
		{"create symlink", nil, `link "/etc/current" { to = "/etc/v2" }`,
			[]string{"- create symlink at /etc/current to /etc/v2"}, wantSymlink("/etc/v2")},
		{"replace wrong symlink", func(t *testing.T, root string) { symlink(t, "/etc/v1", root, "etc/current") },
			`link "/etc/current" { to = "/etc/v2" }`,
			[]string{"- create symlink at /etc/current to /etc/v2"}, wantSymlink("/etc/v2")},
		{"replace file", func(t *testing.T, root string) { writeFile(t, filepath.Join(root, "etc/current"), "x", 0o644) },
			`link "/etc/current" { to = "v2" }`,
			[]string{"- unlink existing file at /etc/current", "- create symlink at /etc/current to v2"}, wantSymlink("v2")},
		{"hard link", nil, `link "/etc/current" { to = "/etc/v2", link_type = "hard" }`,
			[]string{"- create hard link at /etc/current to /etc/v2"},
			func(t *testing.T, root string) {
				a, errA := os.Lstat(filepath.Join(root, "etc/current"))
				b, errB := os.Lstat(filepath.Join(root, "etc/v2"))
				if errA != nil || errB != nil || !os.SameFile(a, b) {
					t.Fatalf("not a hard link: %v %v", errA, errB)
				}
			}},
		{"delete symlink", func(t *testing.T, root string) { symlink(t, "/etc/v2", root, "etc/current") },
			`link "/etc/current" { action = "delete" }`,
			[]string{"- delete link at /etc/current"}, wantAbsent("etc/current")},
		{"delete missing", nil, `link "/etc/current" { action = "delete" }`, nil, wantAbsent("etc/current")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			writeFile(t, filepath.Join(root, "etc/v2"), "v2", 0o644)
			if tt.setup != nil {
				tt.setup(t, root)
			}
			assertConverges(t, root, tt.recipe, tt.changes)
			tt.check(t, root)
			assertNoTemps(t, filepath.Join(root, "etc"))
			mustRun(t, root, tt.recipe, 0)
		})
	}
}

func symlink(t *testing.T, to, root, at string) {
	t.Helper()
	if err := os.Symlink(to, filepath.Join(root, at)); err != nil {
		t.Fatal(err)
	}
}

func wantSymlink(to string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		t.Helper()
		got, err := os.Readlink(filepath.Join(root, "etc/current"))
		if err != nil || got != to {
			t.Fatalf("link points to %q (%v), want %q", got, err, to)
		}
	}
}

func wantAbsent(p string) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		t.Helper()
		if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Fatalf("%s still there: %v", p, err)
		}
	}
}

func TestLinkOwner(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	root := newRoot(t, "etc")
	symlink(t, "/etc/v2", root, "etc/current")
	recipe := `link "/etc/current" { to = "/etc/v2", owner = "nobody", group = "nogroup" }`
	res := mustRun(t, root, recipe, 1)
	if !strings.Contains(res.Output, "- change owner from 'root' to 'nobody'") {
		t.Errorf("output:\n%s", res.Output)
	}
	fi, err := os.Lstat(filepath.Join(root, "etc/current"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
		t.Fatalf("link owned by %d:%d", st.Uid, st.Gid)
	}
	mustRun(t, root, recipe, 0)
}

func TestLinkWhyRun(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	writeFile(t, filepath.Join(root, "etc/v2"), "v2", 0o644)
	symlink(t, "/etc/v1", root, "etc/wrong")
	symlink(t, "/etc/v1", root, "etc/old")
	assertWhyRun(t, root, `
link "/etc/new" { to = "/etc/v2" }
link "/etc/wrong" { to = "/etc/v2" }
link "/etc/old" { action = "delete" }
link "/etc/hard" { to = "/etc/v2", link_type = "hard" }
`, []string{
		"- Would create symlink at /etc/new to /etc/v2",
		"- Would create symlink at /etc/wrong to /etc/v2",
		"- Would delete link at /etc/old",
		"- Would create hard link at /etc/hard to /etc/v2",
		"4/4 resources would have been updated",
	})
}
