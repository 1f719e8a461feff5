package resources

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestHashFile: the sum of an empty file, a small one and one larger
// than the copy buffer is sha256 of the content.
func TestHashFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty": nil, "small": []byte("hello\n"), "large": bytes.Repeat([]byte("0123456789abcdef"), 10_000),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := hashFile(p)
		want := sha256.Sum256(data)
		if err != nil || got != hex.EncodeToString(want[:]) {
			t.Errorf("hashFile(%s) = %q, %v; want %x", name, got, err, want)
		}
	}
	if _, err := hashFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("hashFile(missing): %v, want not exist", err)
	}
}

// TestHashFileReusesBuffer: hashing a file allocates no copy buffer of
// its own; a no-op converge hashes every managed file, and io.CopyBuffer
// (which an *os.File bypasses through WriteTo) allocated 32 KiB each.
// Not parallel: it reads the process's allocation counter, which other
// tests running at the same time would add to.
func TestHashFileReusesBuffer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hashFile(p); err != nil { // fills the pool
		t.Fatal(err)
	}
	const n = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		if _, err := hashFile(p); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// Under 16 KiB, not near 0: the race detector makes sync.Pool drop
	// a quarter of what is put back (8 KiB a call on average).
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 16<<10 {
		t.Errorf("hashFile allocates %d bytes per file, want < 16 KiB (a 32 KiB copy buffer per call?)", per)
	}
}
