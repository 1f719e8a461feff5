package resources

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFileActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing string // content of /etc/app.conf before the run, "-" for none
		recipe   string
		want     string // content after, "-" for none
		wantMode string
		changes  []string
		again    int // resources updated by a second run
	}{
		{"create", "-", `file "/etc/app.conf" { content = "hello\n", mode = "0640" }`, "hello\n", "0640",
			[]string{"- create new file /etc/app.conf", "- update content in file /etc/app.conf from none to 5891b5", "- change mode from '' to '0640'"}, 0},
		{"create without content", "-", `file "/etc/app.conf"`, "", "0644",
			[]string{"- create new file /etc/app.conf"}, 0},
		{"create without content keeps content", "old\n", `file "/etc/app.conf"`, "old\n", "0644", nil, 0},
		{"update keeps mode", "old\n", `file "/etc/app.conf" { content = "new\n" }`, "new\n", "0644",
			[]string{"- update content in file /etc/app.conf from "}, 0},
		{"create_if_missing leaves existing", "old\n", `file "/etc/app.conf" { content = "new\n", action = "create_if_missing" }`, "old\n", "0644", nil, 0},
		{"create_if_missing creates", "-", `file "/etc/app.conf" { content = "new\n", action = "create_if_missing" }`, "new\n", "0644",
			[]string{"- create new file /etc/app.conf"}, 0},
		{"touch", "same\n", `file "/etc/app.conf" { content = "same\n", action = "touch" }`, "same\n", "0644",
			[]string{"- update utime on file /etc/app.conf"}, 1},
		{"delete", "old\n", `file "/etc/app.conf" { action = "delete" }`, "-", "",
			[]string{"- delete file /etc/app.conf"}, 0},
		{"delete missing", "-", `file "/etc/app.conf" { action = "delete" }`, "-", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			path := filepath.Join(root, "etc/app.conf")
			if tt.existing != "-" {
				writeFile(t, path, tt.existing, 0o644)
			}
			assertConverges(t, root, tt.recipe, tt.changes)
			if tt.want == "-" {
				if _, err := os.Lstat(path); !os.IsNotExist(err) {
					t.Fatalf("file still there: %v", err)
				}
			} else {
				if got := readFile(t, path); got != tt.want {
					t.Fatalf("content %q, want %q", got, tt.want)
				}
				if got := permOf(t, path); got != tt.wantMode {
					t.Fatalf("mode %s, want %s", got, tt.wantMode)
				}
			}
			assertNoTemps(t, filepath.Dir(path))
			mustRun(t, root, tt.recipe, tt.again)
		})
	}
}

func TestFileContentChangeShowsDiff(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	writeFile(t, filepath.Join(root, "etc/app.conf"), "a\nb\nc\n", 0o644)
	res := assertConverges(t, root, `file "/etc/app.conf" { content = "a\nB\nc\n" }`, []string{
		fmt.Sprintf("- update content in file /etc/app.conf from %.3x to %.3x", sha256.Sum256([]byte("a\nb\nc\n")), sha256.Sum256([]byte("a\nB\nc\n"))),
		"    --- /etc/app.conf\n    +++ /etc/app.conf\n",
		"    -b\n    +B\n",
	})
	if d := res.Report.Resources[0].Diffs; len(d) != 1 || !strings.Contains(d[0], "@@ -1,3 +1,3 @@") {
		t.Errorf("report diffs %q", d)
	}
}

func TestFileDiffSuppressed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, note string }{
		{"binary", `"a\0b"`, "binary content"},
		{"large", `string.rep("x\n", 600000)`, "file larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			res := mustRun(t, root, `file "/etc/blob" { content = `+tt.content+` }`, 1)
			if !strings.Contains(res.Output, "(diff output suppressed: "+tt.note+")") || strings.Contains(res.Output, "@@") {
				t.Fatalf("output:\n%.2000s", res.Output)
			}
		})
	}
}

func TestFileSensitiveHidesContent(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	writeFile(t, filepath.Join(root, "etc/secret"), "password=old-hunter2\n", 0o600)
	recipe := `file "/etc/secret" { content = "password=new-hunter3\n", sensitive = true, mode = "0600" }`
	res := mustRun(t, root, recipe, 1)
	for _, secret := range []string{"new-hunter3", "old-hunter2"} {
		assertHidden(t, res, secret)
	}
	// The engine scrubs every property value of a sensitive resource from
	// the change descriptions, the path included.
	if !strings.Contains(res.Output, "- update content in file ") || !strings.Contains(res.Output, "suppressed sensitive resource output") {
		t.Fatalf("output:\n%s", res.Output)
	}
	if got := readFile(t, filepath.Join(root, "etc/secret")); got != "password=new-hunter3\n" {
		t.Fatalf("content %q", got)
	}
}

func TestFileAttributeChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipe string
		root         bool
		changes      []string
		check        func(t *testing.T, st *syscall.Stat_t)
	}{
		{"mode", `file "/etc/app.conf" { mode = "0640" }`, false,
			[]string{"- change mode from '0644' to '0640'"},
			func(t *testing.T, st *syscall.Stat_t) {
				if st.Mode&0o7777 != 0o640 {
					t.Fatalf("mode %o", st.Mode&0o7777)
				}
			}},
		{"setuid mode", `file "/etc/app.conf" { mode = "4755" }`, false,
			[]string{"- change mode from '0644' to '4755'"},
			func(t *testing.T, st *syscall.Stat_t) {
				if st.Mode&0o7777 != 0o4755 {
					t.Fatalf("mode %o", st.Mode&0o7777)
				}
			}},
		{"owner and group by name", `file "/etc/app.conf" { owner = "nobody", group = "nogroup", content = "x" }`, true,
			[]string{"- change owner from 'root' to 'nobody'", "- change group from 'root' to 'nogroup'"},
			func(t *testing.T, st *syscall.Stat_t) {
				if st.Uid != 65534 || st.Gid != 65534 {
					t.Fatalf("owner %d:%d", st.Uid, st.Gid)
				}
			}},
		{"owner by id", `file "/etc/app.conf" { owner = "65534", group = "65534" }`, true,
			[]string{"- change owner from 'root' to '65534'", "- change group from 'root' to '65534'"},
			func(t *testing.T, st *syscall.Stat_t) {
				if st.Uid != 65534 || st.Gid != 65534 {
					t.Fatalf("owner %d:%d", st.Uid, st.Gid)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.root {
				requireRoot(t)
			}
			root := newRoot(t, "etc")
			path := filepath.Join(root, "etc/app.conf")
			writeFile(t, path, "old", 0o644)
			assertConverges(t, root, tt.recipe, tt.changes)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, fi.Sys().(*syscall.Stat_t))
			mustRun(t, root, tt.recipe, 0)
		})
	}
}

func TestFileWhyRun(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	writeFile(t, filepath.Join(root, "etc/old.conf"), "old\n", 0o644)
	writeFile(t, filepath.Join(root, "etc/gone.conf"), "gone\n", 0o644)
	recipe := `
file "/etc/new.conf" { content = "new\n", mode = "0600" }
file "/etc/old.conf" { content = "changed\n", mode = "0640" }
file "/etc/gone.conf" { action = "delete" }
file "/etc/old.conf" { action = "touch" }
file "/missing/dir/x" { content = "x" }
`
	res := assertWhyRun(t, root, recipe, []string{
		"- Would create new file /etc/new.conf",
		"- Would update content in file /etc/old.conf from",
		"- Would change mode from '0644' to '0640'",
		"- Would delete file /etc/gone.conf",
		"- Would update utime on file /etc/old.conf",
		"+changed",
		"parent directory /missing/dir does not exist",
	})
	if res.Report.UpdatedResources != 4 {
		t.Errorf("%d would be updated, want 4\n%s", res.Report.UpdatedResources, res.Output)
	}
}

func TestFileAtomicWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		atomic    string
		sameInode bool
	}{
		{"atomic rename", "true", false},
		{"in place", "false", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			path := filepath.Join(root, "etc/app.conf")
			writeFile(t, path, "old\n", 0o600)
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// verify sees the whole new content under the temp name, with
			// the final mode already set.
			recipe := `file "/etc/app.conf" { content = "new\n", atomic_update = ` + tt.atomic + `,
				verify = "grep -qx new %{path} && test $(stat -c %a %{path}) = 600 && case %{path} in *.stackagent-*) true;; *) false;; esac" }`
			mustRun(t, root, recipe, 1)
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != "new\n" {
				t.Fatalf("content %q", got)
			}
			if got := permOf(t, path); got != "0600" {
				t.Fatalf("mode %s: the existing mode should be kept", got)
			}
			if os.SameFile(before, after) != tt.sameInode {
				t.Fatalf("same inode %v, want %v", os.SameFile(before, after), tt.sameInode)
			}
			assertNoTemps(t, filepath.Dir(path))
		})
	}
}

func TestFileVerifyFailureKeepsOldFile(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	path := filepath.Join(root, "etc/app.conf")
	writeFile(t, path, "old\n", 0o644)
	assertFails(t, root, `file "/etc/app.conf" { content = "bad\n", verify = "echo rejected >&2; false" }`,
		`verify /etc/app.conf: command "echo rejected >&2; false" exited 1: rejected`)
	if got := readFile(t, path); got != "old\n" {
		t.Fatalf("content %q, want the old file", got)
	}
	assertNoTemps(t, filepath.Dir(path))
}
