package resources

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestFileRemovesStaleStagedFiles: an agent killed mid-write leaves the
// staged content next to its target (.NAME.stackagent-staged-<16 hex>).
// The next write of that target removes the ones older than the run;
// anything else that only looks alike stays: another target's, a name
// with more after the digits, upper-case digits, a link, and one newer
// than the run.
func TestFileRemovesStaleStagedFiles(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	dir := filepath.Join(root, "etc")
	writeFile(t, filepath.Join(dir, "app.conf"), "old\n", 0o644)
	old := time.Now().Add(-time.Hour)
	stale := []string{".app.conf.stackagent-staged-0123456789abcdef", ".app.conf.stackagent-staged-fedcba9876543210"}
	keep := []string{".other.conf.stackagent-staged-0123456789abcdef", ".app.conf.stackagent-staged-0123456789abcdef.bak",
		".app.conf.stackagent-staged-0123456789ABCDEF", ".app.conf.stackagent-staged-0123", "app.conf.stackagent-staged-0123456789abcdef"}
	for _, n := range append(slices.Clone(stale), keep...) {
		writeFile(t, filepath.Join(dir, n), "x", 0o600)
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	newer := ".app.conf.stackagent-staged-00000000000000ff"
	writeFile(t, filepath.Join(dir, newer), "x", 0o600)
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, newer), future, future)
	link := ".app.conf.stackagent-staged-1111111111111111"
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, link)); err != nil {
		t.Fatal(err)
	}
	keep = append(keep, newer, link)

	mustRun(t, root, `file "/etc/app.conf" { content = "new\n" }`, 1)
	if got := readFile(t, filepath.Join(dir, "app.conf")); got != "new\n" {
		t.Fatalf("content %q", got)
	}
	for _, n := range stale {
		if _, err := os.Lstat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("stale %s not removed: %v", n, err)
		}
	}
	for _, n := range keep {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: %v", n, err)
		}
	}
}
