package resources

import (
	"path/filepath"
	"testing"
)

// TestModeAsNumber: mode = 420 is 0644 and 493 is 0755, as Ruby's 0644
// and 0755 are in Chef; strings keep meaning octal digits.
func TestModeAsNumber(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mustRun(t, root, `
file "/f" { content = "x", mode = 420 }
directory "/d" { mode = 493 }
file "/g" { content = "y", mode = "600" }
`, 3)
	for p, want := range map[string]string{"/f": "0644", "/d": "0755", "/g": "0600"} {
		if got := permOf(t, filepath.Join(root, p)); got != want {
			t.Errorf("%s: mode %s, want %s", p, got, want)
		}
	}
	assertFails(t, root, `file "/h" { content = "x", mode = 644 }`, `write the octal digits as a string ("0644")`)
}
