package resources

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// Writing files: content is staged in a temp file next to its target,
// given its attributes and verified, then renamed into place.

// write puts the content in place: a temp file in the same directory,
// written and synced, given its owner, group and mode, verified, then
// renamed over the file (or, without atomic_update, copied into it).
func (m *managedFile) write(ctx context.Context, rc *recipes.RunContext, cur fileState, c *content) (err error) {
	removeStale(rc, cur.path, c.staged)
	tmp := c.staged
	if tmp == "" {
		if tmp, err = stage(cur.path, bytes.NewReader(c.data)); err != nil {
			return fmt.Errorf("write %s: %w", m.display, err)
		}
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := m.attrs.apply(tmp, cur.node, defaultFileMode); err != nil {
		return fmt.Errorf("set owner, group and mode of %s: %w", m.display, err)
	}
	if err := m.runVerify(ctx, rc, tmp); err != nil {
		return err
	}
	if cur.exists {
		if err := m.backup.save(m.display, cur.path, c.data); err != nil {
			return err
		}
	}
	if !m.atomic && cur.exists {
		if err := copyInto(cur.path, tmp); err != nil {
			return fmt.Errorf("write %s: %w", m.display, err)
		}
		return c.commitIfSet()
	}
	if err := os.Rename(tmp, cur.path); err != nil {
		return fmt.Errorf("write %s: %w", m.display, err)
	}
	if err := syncDir(filepath.Dir(cur.path)); err != nil {
		return err
	}
	return c.commitIfSet()
}

func (c *content) commitIfSet() error {
	if c.commit == nil {
		return nil
	}
	return c.commit()
}

// stage copies r to a new staged file next to path (stagedPrefix and 16
// hex digits, mode 0600) and syncs it.
func stage(path string, r io.Reader) (string, error) {
	var b [8]byte
	rand.Read(b[:])
	f, err := os.OpenFile(stagedPrefix(path)+hex.EncodeToString(b[:]), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func tempPattern(path string) string { return "." + filepath.Base(path) + ".stackagent-*" }

// stagedPrefix is the path of a file's staged content without its 16 hex
// digits: DIR/.NAME.stackagent-staged-.
func stagedPrefix(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".stackagent-staged-")
}

// isStaged reports whether name (a base name) is content staged for
// target: exactly stagedPrefix and 16 lower-case hex digits.
func isStaged(target, name string) bool {
	prefix := filepath.Base(stagedPrefix(target))
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) != 16 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}

// removeStale removes the staged files of target left by an earlier run
// (the agent killed mid-write): regular files named by isStaged, modified
// before this run began. keep (this write's own staged file) stays.
func removeStale(rc *recipes.RunContext, target, keep string) {
	entries, err := os.ReadDir(filepath.Dir(target))
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(filepath.Dir(target), e.Name())
		if !e.Type().IsRegular() || p == keep || !isStaged(target, e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(rc.Started) {
			continue
		}
		if err := os.Remove(p); err == nil && rc.Log != nil {
			rc.Log.Info("removed a staged file an earlier run left", "path", p)
		}
	}
}

// renameIntoPlace makes a new directory or link under a temp name next to
// path (mk), gives it its owner, group and mode (set), and renames it over
// path, so that path never is half made; on failure nothing is left.
func renameIntoPlace(path string, mk, set func(tmp string) error) error {
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(filepath.Dir(path), strings.Replace(tempPattern(path), "*", hex.EncodeToString(b[:]), 1))
	if err := mk(tmp); err != nil {
		return err
	}
	err := set(tmp)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// copyInto writes tmp's content into path in place (atomic_update false)
// and removes tmp.
func copyInto(path, tmp string) error {
	src, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// runVerify runs the verify command with %{path} replaced by the staged
// file; a failure aborts the write.
func (m *managedFile) runVerify(ctx context.Context, rc *recipes.RunContext, tmp string) error {
	if m.verify == "" {
		return nil
	}
	cmd := strings.ReplaceAll(m.verify, "%{path}", tmp)
	res, err := rc.Runner.Run(ctx, recipes.Command{Path: "/bin/sh", Args: []string{"-c", cmd}})
	if err != nil {
		return fmt.Errorf("verify %s: %w", m.display, err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("verify %s: command %q exited %d: %s", m.display, m.verify, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}
