package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	WriteTree(t, dir, map[string]string{"a.txt": "a", "b/c/d.txt": "d"})
	for rel, want := range map[string]string{"a.txt": "a", "b/c/d.txt": "d"} {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", rel, got, err, want)
		}
	}
}
