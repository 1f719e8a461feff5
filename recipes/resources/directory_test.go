package resources

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDirectoryActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string)
		recipe  string
		changes []string
		modes   map[string]string // path under root -> mode after, "-" for absent
	}{
		{"create", nil, `directory "/srv/app" { mode = "0750" }`,
			[]string{"- create new directory /srv/app", "- change mode from '' to '0750'"},
			map[string]string{"srv/app": "0750"}},
		{"create default mode", nil, `directory "/srv/app"`,
			[]string{"- create new directory /srv/app"}, map[string]string{"srv/app": "0755"}},
		{"recursive applies mode to the leaf only", nil, `directory "/srv/a/b/c" { mode = "0700", recursive = true }`,
			[]string{"- create new directory /srv/a/b/c"},
			map[string]string{"srv/a": "0755", "srv/a/b": "0755", "srv/a/b/c": "0700"}},
		{"mode change", func(t *testing.T, root string) { mkdir(t, root, "srv/app", 0o755) },
			`directory "/srv/app" { mode = "2775" }`,
			[]string{"- change mode from '0755' to '2775'"}, map[string]string{"srv/app": "2775"}},
		{"delete empty", func(t *testing.T, root string) { mkdir(t, root, "srv/app", 0o755) },
			`directory "/srv/app" { action = "delete" }`,
			[]string{"- delete existing directory /srv/app"}, map[string]string{"srv/app": "-"}},
		{"delete recursive", func(t *testing.T, root string) {
			mkdir(t, root, "srv/app/sub", 0o755)
			writeFile(t, filepath.Join(root, "srv/app/sub/f"), "x", 0o644)
		}, `directory "/srv/app" { action = "delete", recursive = true }`,
			[]string{"- delete existing directory /srv/app"}, map[string]string{"srv/app": "-", "srv": "0755"}},
		{"up to date", func(t *testing.T, root string) { mkdir(t, root, "srv/app", 0o750) },
			`directory "/srv/app" { mode = "750" }`, nil, map[string]string{"srv/app": "0750"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "srv")
			if tt.setup != nil {
				tt.setup(t, root)
			}
			assertConverges(t, root, tt.recipe, tt.changes)
			for p, want := range tt.modes {
				full := filepath.Join(root, p)
				if want == "-" {
					if _, err := os.Lstat(full); !os.IsNotExist(err) {
						t.Errorf("%s still there: %v", p, err)
					}
					continue
				}
				if got := permOf(t, full); got != want {
					t.Errorf("%s mode %s, want %s", p, got, want)
				}
			}
			assertNoTemps(t, filepath.Join(root, "srv"))
			mustRun(t, root, tt.recipe, 0)
		})
	}
}

func mkdir(t *testing.T, root, p string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(full, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		t.Fatal(err)
	}
}

func TestDirectoryOwner(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	root := newRoot(t, "srv")
	recipe := `directory "/srv/a/b" { owner = "nobody", group = "nogroup", recursive = true }`
	res := mustRun(t, root, recipe, 1)
	if !strings.Contains(res.Output, "- change owner from '' to 'nobody'") {
		t.Errorf("output:\n%s", res.Output)
	}
	for p, want := range map[string]uint32{"srv/a": 0, "srv/a/b": 65534} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != want || st.Gid != want {
			t.Errorf("%s owned by %d:%d, want %d", p, st.Uid, st.Gid, want)
		}
	}
	mustRun(t, root, recipe, 0)
	if err := os.Chown(filepath.Join(root, "srv/a/b"), 0, 0); err != nil {
		t.Fatal(err)
	}
	res = mustRun(t, root, recipe, 1)
	if !strings.Contains(res.Output, "- change owner from 'root' to 'nobody'") || !strings.Contains(res.Output, "- change group from 'root' to 'nogroup'") {
		t.Errorf("output:\n%s", res.Output)
	}
}

func TestDirectoryWhyRun(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "srv/old/sub")
	mkdir(t, root, "srv/keep", 0o755)
	assertWhyRun(t, root, `
directory "/srv/new/deep" { recursive = true, mode = "0700" }
directory "/srv/keep" { mode = "0711" }
directory "/srv/old" { action = "delete", recursive = true }
`, []string{
		"- Would create new directory /srv/new/deep",
		"- Would change mode from '0755' to '0711'",
		"- Would delete existing directory /srv/old",
		"3/3 resources would have been updated",
	})
}
