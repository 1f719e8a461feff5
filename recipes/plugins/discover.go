// Package plugins is the agent's side of resource-provider plugins:
// executables in the plugin directories that serve resource kinds over
// gRPC (protocol provider/v1, see proto/provider/v1/provider.proto) under
// hashicorp/go-plugin.
//
// Discover finds the binaries and checks their checksums; a Host starts
// each on first use and stops them all in Close; Register adds every
// plugin kind to a recipes.Registry, so Lua sees it like a built-in.
// A plugin that will not start, crashes, hangs or fails its checksum
// fails only its own resources, with an error naming it.
package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/checksum"
)

// DefaultDir is where packages install plugins.
const DefaultDir = "/usr/lib/stackagent/plugins"

// Sentinel errors a plugin's resources fail with (test with errors.Is).
var (
	// ErrStart: the plugin did not start or failed the handshake (another
	// protocol version, not a stackagent plugin).
	ErrStart = errors.New("plugin did not start")
	// ErrCrashed: the plugin exited during a call.
	ErrCrashed = errors.New("plugin crashed")
	// ErrHung: the plugin did not answer within its timeout; it was stopped.
	ErrHung = errors.New("plugin did not answer in time")
)

// Plugin is one plugin binary found by Discover.
type Plugin struct {
	// Name is the file's name; it names the plugin in messages and config.
	Name string
	Path string
	// SHA256 is the binary's checksum, hex.
	SHA256 string
	// Verified is set when a configured checksum matched.
	Verified bool
	// Err, when set, is why the plugin must not run (checksum.ErrMismatch); its
	// resources fail with it.
	Err error
}

// Discover lists the plugin binaries in dirs (missing dirs are skipped),
// the first of a name winning, as in PATH. When checksums (plugin name →
// SHA-256, hex) is not empty, every plugin must match its entry: one that
// does not, or has none, is returned with Err set so its resources fail.
// The error reports unreadable dirs and checksums configured for plugins
// that are not there; the plugins found are returned with it.
func Discover(dirs []string, checksums map[string]string) ([]Plugin, error) {
	var out []Plugin
	var errs []error
	seen := map[string]bool{}
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin dir: %w", err))
			continue
		}
		for _, e := range ents {
			name := e.Name()
			if seen[name] || strings.HasPrefix(name, ".") {
				continue
			}
			path := filepath.Join(dir, name)
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			sum, err := fileSHA256(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", name, err))
				continue
			}
			seen[name] = true
			out = append(out, verify(Plugin{Name: name, Path: path, SHA256: sum}, checksums))
		}
	}
	var missing []string
	for name := range checksums {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		errs = append(errs, fmt.Errorf("plugin %s: a checksum is configured but no such plugin is in %s", name, strings.Join(dirs, ", ")))
	}
	return out, errors.Join(errs...)
}

func verify(p Plugin, checksums map[string]string) Plugin {
	if len(checksums) == 0 {
		return p
	}
	want, ok := checksums[p.Name]
	want = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(want), "sha256:"))
	switch {
	case !ok:
		p.Err = fmt.Errorf("%w: no checksum is configured for %s (checksums are configured, so every plugin needs one)", checksum.ErrMismatch, p.Path)
	case want != p.SHA256:
		p.Err = fmt.Errorf("%w: %s has sha256 %s, configured %s", checksum.ErrMismatch, p.Path, p.SHA256, want)
	default:
		p.Verified = true
	}
	return p
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
