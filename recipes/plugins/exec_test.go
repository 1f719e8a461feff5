package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/checksum"
)

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestVerifiedBytesRun swaps a checked plugin for another binary between
// the check and the exec (renamed over its path, and written in place):
// the bytes that were checked run, never the swapped-in ones.
func TestVerifiedBytesRun(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"rename", "in place", "rename, file copy"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			dir, path := pluginDir(t, faultPkg, "fault")
			_, other := pluginDir(t, s3filePkg, "s3file")
			found, err := Discover([]string{dir}, map[string]string{"fault": sha256File(t, path)})
			if err != nil || len(found) != 1 || !found[0].Verified {
				t.Fatalf("discover: %v %+v", err, found)
			}
			host := NewHost(found, Options{})
			host.noMemfd = strings.HasSuffix(how, "file copy")
			t.Cleanup(func() { host.Close() })
			swapped := false
			host.beforeExec = func(Plugin) {
				b, err := os.ReadFile(other)
				if err != nil {
					t.Error(err)
					return
				}
				if strings.HasPrefix(how, "rename") {
					tmp := filepath.Join(dir, ".swap")
					if err := os.WriteFile(tmp, b, 0o755); err != nil {
						t.Error(err)
					}
					err = os.Rename(tmp, path)
				} else {
					err = os.WriteFile(path, b, 0o755)
				}
				if err != nil {
					t.Error(err)
				}
				swapped = true
			}
			kinds, err := host.schema(t.Context(), host.plugins["fault"])
			if err != nil || !swapped {
				t.Fatalf("schema: %v (swapped %v)", err, swapped)
			}
			if len(kinds) != 1 || kinds[0].Name != "fault" {
				t.Fatalf("the swapped-in binary ran: kinds %+v", kinds)
			}
			if sha256File(t, path) == found[0].SHA256 {
				t.Fatal("the file was not swapped")
			}
		})
	}
}

// TestChangedPluginRefused: a plugin whose file changed after Discover
// checked it is refused at start with checksum.ErrMismatch, not run.
func TestChangedPluginRefused(t *testing.T) {
	t.Parallel()
	dir, path := pluginDir(t, faultPkg, "fault")
	found, err := Discover([]string{dir}, map[string]string{"fault": sha256File(t, path)})
	if err != nil {
		t.Fatal(err)
	}
	_, other := pluginDir(t, s3filePkg, "s3file")
	b, _ := os.ReadFile(other)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	host := NewHost(found, Options{})
	t.Cleanup(func() { host.Close() })
	_, err = host.schema(t.Context(), host.plugins["fault"])
	if !errors.Is(err, checksum.ErrMismatch) || !strings.Contains(err.Error(), "changed since it was checked") {
		t.Fatalf("got %v", err)
	}
	if len(host.Running()) != 0 {
		t.Fatal("the changed plugin runs")
	}
}
