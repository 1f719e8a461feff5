package resources

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const statusGood = `Package: hello
Status: install ok installed
Priority: optional
Version: 2.10-3
Description: example package
 a continuation line: with a colon

Package: cron
Status: deinstall ok config-files
Version: 3.0pl1-162
Conffiles:
 /etc/crontab 1234 obsolete

Package: held
Status: hold ok installed
Version: 1.0-1

Package: half
Status: install reinstreq half-installed
Version: 0.9
`

// writeDpkgDir writes a dpkg directory holding a status file.
func writeDpkgDir(t *testing.T, status string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "updates"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeStatus(t, dir, status)
	return dir
}

// writeStatus replaces the status file as dpkg does: a new file renamed
// over it.
func writeStatus(t *testing.T, dir, status string) {
	t.Helper()
	tmp := filepath.Join(dir, "status-new")
	if err := os.WriteFile(tmp, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "status")); err != nil {
		t.Fatal(err)
	}
}

func TestDpkgStatusStates(t *testing.T) {
	t.Parallel()
	db := &dpkgDB{dir: writeDpkgDir(t, statusGood)}
	got, err := db.lookup([]string{"hello", "cron", "held:amd64", "half", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]pkgState{"hello": {Installed: "2.10-3"}, "cron": {ConfigLeft: true},
		"held": {Installed: "1.0-1"}, "half": {}, "absent": {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// dpkg renames a new status file into place: the next read sees it.
	writeStatus(t, db.dir, strings.Replace(statusGood, "2.10-3", "2.10-4", 1))
	if got, _ := db.lookup([]string{"hello"}); got["hello"].Installed != "2.10-4" {
		t.Errorf("after dpkg changed the file: %+v, want 2.10-4", got["hello"])
	}
}

// TestDpkgStatusHostile: a status file the agent cannot trust is a clear
// error naming file and line (the provider then asks dpkg-query), never
// a wrong answer.
func TestDpkgStatusHostile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, status, want string }{
		{"no package", "Status: install ok installed\nVersion: 1\n", "status:1: stanza without a Package field"},
		{"no status", statusGood + "\nPackage: x\nVersion: 1\n", "status:22: package x has no Status field"},
		{"bad status", "Package: x\nStatus: installed\n", `Status "installed" is not three words`},
		{"not a field", "Package: x\ngarbage\n", "status:2: not a field line"},
		{"huge line", "Package: x\nDescription: " + strings.Repeat("a", dpkgMaxLine+10) + "\nStatus: install ok installed\n", "status:2: line longer than"},
	} {
		db := &dpkgDB{dir: writeDpkgDir(t, c.status)}
		_, err := db.lookup([]string{"x"})
		if !errors.Is(err, errDpkgStatus) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	db := &dpkgDB{dir: writeDpkgDir(t, statusGood)}
	if err := os.WriteFile(filepath.Join(db.dir, "updates", "0001"), []byte("Package: hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := db.lookup([]string{"hello"}); !errors.Is(err, errDpkgStatus) || !strings.Contains(err.Error(), "unmerged") {
		t.Errorf("with a dpkg journal entry: %v, want an unmerged-entries error", err)
	}
	if _, err := (&dpkgDB{dir: t.TempDir()}).lookup([]string{"hello"}); !errors.Is(err, errDpkgStatus) {
		t.Errorf("no status file: %v", err)
	}
}

// TestDpkgStatusMatchesDpkgQuery: on this machine's real database, the
// in-process read says what dpkg-query says of every package it knows,
// and of one it does not.
func TestDpkgStatusMatchesDpkgQuery(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("no dpkg database here")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Package}\t${Status}\t${Version}\n").Output()
	if err != nil {
		t.Skipf("dpkg-query: %v", err)
	}
	want := parseDpkgQuery(string(out))
	names := []string{"stackagent-no-such-package"}
	for n := range want {
		names = append(names, n)
	}
	want["stackagent-no-such-package"] = pkgState{}
	got, err := (&dpkgDB{dir: "/var/lib/dpkg"}).lookup(names)
	if err != nil {
		t.Skipf("dpkg busy or status unreadable: %v", err)
	}
	if len(want) < 10 || !reflect.DeepEqual(got, want) {
		for n, w := range want {
			if !reflect.DeepEqual(got[n], w) {
				t.Errorf("%s: in-process %+v, dpkg-query %+v", n, got[n], w)
			}
		}
		t.Fatalf("%d packages compared", len(want))
	}
}

func BenchmarkDpkgStatus(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		db := &dpkgDB{dir: "/var/lib/dpkg"}
		if _, err := db.lookup([]string{"apache2", "php"}); err != nil {
			b.Skip(err)
		}
	}
}
