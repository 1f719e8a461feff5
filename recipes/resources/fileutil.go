package resources

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/stackagent/stackagent/recipes"
)

// diffLimit is the largest content shown as a diff.
const diffLimit = 1 << 20

// defaultFileMode is the mode of a new file whose resource declares none.
const defaultFileMode = 0o644

// errIsDir is returned (wrapped) when a file resource's path is a directory.
var errIsDir = errors.New("is a directory")

// content is what a file is to hold: bytes in memory, or a staged temp
// file in the target's directory (a download) that the write renames.
type content struct {
	data   []byte
	staged string
	sum    string // sha256, hex
	// commit, when set, runs once the content is in place.
	commit func() error
}

func memContent(b []byte) *content {
	h := sha256.Sum256(b)
	return &content{data: b, sum: hex.EncodeToString(h[:])}
}

// head returns the content when it is small enough to diff.
func (c *content) head() ([]byte, bool) {
	if c.staged == "" {
		return c.data, len(c.data) <= diffLimit
	}
	return readSmall(c.staged)
}

// discard removes a staged file that will not be used.
func (c *content) discard() {
	if c != nil && c.staged != "" {
		os.Remove(c.staged)
	}
}

// fileState is a file resource's path as the plan finds it.
type fileState struct {
	node
	path string // the file written: the resource's path, or where its symlink leads
	sum  string // sha256 of the content, hex; "" when the file does not exist
}

// statFile reads the current state of a managed file. A symlink is
// followed (Chef's default for manage_symlink_source); a directory is an
// error.
func statFile(rc *recipes.RunContext, display, path string) (fileState, error) {
	st := fileState{path: path}
	n, err := lstatNode(path)
	if err != nil {
		return st, err
	}
	if !n.exists {
		dir := filepath.Dir(path)
		if d, err := os.Stat(dir); err != nil || !d.IsDir() {
			return st, fmt.Errorf("parent directory %s does not exist, cannot create %s", filepath.Dir(display), display)
		}
		return st, nil
	}
	if n.isLink {
		real, err := filepath.EvalSymlinks(path)
		if os.IsNotExist(err) {
			return st, fmt.Errorf("%s is a dangling symlink", display)
		}
		if err != nil {
			return st, err
		}
		rc.Log.Warn("file is a symlink: managing its target", "path", display, "target", real)
		st.path = real
		if n, err = lstatNode(real); err != nil {
			return st, err
		}
	}
	if n.isDir {
		return st, fmt.Errorf("%s: %w", display, errIsDir)
	}
	st.node = n
	st.sum, err = hashFile(st.path)
	return st, err
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	// Not io.CopyBuffer: *os.File is an io.WriterTo, so CopyBuffer would
	// ignore the pooled buffer and allocate 32 KiB per file anyway.
	buf := *bp
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])), nil
}

// hashBufs recycles hashFile's copy buffers: a no-op converge hashes
// every managed file, and a fresh 32 KiB buffer each time was most of its
// garbage.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// readSmall reads a file when it is small enough to diff.
func readSmall(path string) ([]byte, bool) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > diffLimit {
		return nil, false
	}
	b, err := os.ReadFile(path)
	return b, err == nil
}

// managedFile is a file whose content a resource declares: file,
// template, cookbook_file, remote_file share it.
type managedFile struct {
	display string // the path as the recipe wrote it
	attrs   attrs
	verify  string
	atomic  bool
	backup  *backups // nil: none kept
}

func newManagedFile(r *recipes.Resource) (*managedFile, error) {
	a, err := resolveAttrs(r)
	if err != nil {
		return nil, err
	}
	return &managedFile{display: r.Str("path"), attrs: a, verify: r.Str("verify"), atomic: r.Bool("atomic_update")}, nil
}

// plan returns the steps of a create or touch: the content when want is
// not nil and differs, then owner, group and mode, then the touch.
func (m *managedFile) plan(rc *recipes.RunContext, cur fileState, want *content, touch bool) []recipes.Step {
	var steps []recipes.Step
	if want != nil && want.sum == cur.sum {
		want.discard()
		want = nil
	}
	if want != nil {
		apply := func(ctx context.Context) error { return m.write(ctx, rc, cur, want) }
		if !cur.exists {
			steps = append(steps, recipes.Step{Desc: "create new file " + m.display, Apply: apply})
			apply = nil
		}
		steps = append(steps, recipes.Step{
			Desc:  fmt.Sprintf("update content in file %s from %s to %s", m.display, shortSum(cur.sum), shortSum(want.sum)),
			Diff:  m.diff(cur, want),
			Apply: apply,
		})
	}
	steps = append(steps, m.attrs.steps(m.display, cur.path, cur.node)...)
	if touch {
		steps = append(steps, recipes.Step{Desc: "update utime on file " + m.display, Apply: func(context.Context) error {
			now := time.Now()
			return os.Chtimes(cur.path, now, now)
		}})
	}
	return steps
}

func shortSum(sum string) string {
	if sum == "" {
		return "none"
	}
	return sum[:6]
}

// diff is a unified diff of the change, or a note saying why there is none.
func (m *managedFile) diff(cur fileState, want *content) string {
	var old []byte
	ok := true
	if cur.exists {
		old, ok = readSmall(cur.path)
	}
	neu, ok2 := want.head()
	if !ok || !ok2 {
		return "(diff output suppressed: file larger than 1 MiB)"
	}
	if isBinary(old) || isBinary(neu) {
		return "(diff output suppressed: binary content)"
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: splitLines(old), B: splitLines(neu),
		FromFile: m.display, ToFile: m.display, Context: 3,
	})
	if err != nil {
		return ""
	}
	return d
}

// splitLines splits text into lines that keep their newline; a last line
// without one is marked as diff(1) does.
func splitLines(b []byte) []string {
	lines := strings.SplitAfter(string(b), "\n")
	if last := len(lines) - 1; lines[last] == "" {
		lines = lines[:last]
	} else {
		lines[last] += "\n\\ No newline at end of file\n"
	}
	return lines
}

func isBinary(b []byte) bool { return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) }

// planDeleteFile deletes the file at path if it is there.
func planDeleteFile(display, path string) ([]recipes.Step, error) {
	n, err := lstatNode(path)
	if err != nil || !n.exists {
		return nil, err
	}
	if n.isDir {
		return nil, fmt.Errorf("cannot delete %s: %w", display, errIsDir)
	}
	return []recipes.Step{{Desc: "delete file " + display, Apply: func(context.Context) error {
		return os.Remove(path)
	}}}, nil
}

// contentLoader returns what a file is to hold, or nil to leave its
// content as it is. It may read the host and the network, never write
// under the root.
type contentLoader func(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, cur fileState) (*content, error)

// contentProvider is the provider of the kinds that manage a file's
// content; load says where the content comes from.
func contentProvider(load contentLoader) recipes.Provider {
	return recipes.ProviderFunc(func(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
		display := r.Str("path")
		path, err := hostPath(rc, display)
		if err != nil {
			return nil, err
		}
		b, err := newBackups(rc, r)
		if err != nil {
			return nil, err
		}
		if action == "delete" {
			steps, err := planDeleteFile(display, path)
			return backupBeforeDelete(steps, b, display, path), err
		}
		cur, err := statFile(rc, display, path)
		if err != nil {
			return nil, err
		}
		if action == "create_if_missing" && cur.exists {
			return nil, nil
		}
		m, err := newManagedFile(r)
		if err != nil {
			return nil, err
		}
		m.backup = b
		want, err := load(ctx, rc, r, cur)
		if err != nil {
			return nil, err
		}
		steps := m.plan(rc, cur, want, action == "touch")
		if want != nil && want.staged != "" {
			if rc.WhyRun {
				want.discard()
			} else {
				// Should the steps not be applied, the engine's cancel of
				// the resource's context at its end removes the staged file.
				context.AfterFunc(ctx, want.discard)
			}
		}
		return steps, nil
	})
}

// hostPath maps a path a recipe declares to the file the run changes,
// under the run's root. The path must be absolute, and is cleaned first so
// that ".." cannot climb out of the root.
func hostPath(rc *recipes.RunContext, p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", p)
	}
	return rc.Path(filepath.Clean(p)), nil
}

// contentKind declares a kind that manages a file's content, which load
// provides: Chef's actions and the properties of every such kind, then the
// kind's own.
func contentKind(name, doc string, load contentLoader, own ...recipes.Prop) *recipes.Kind {
	return &recipes.Kind{
		Name: name, Actions: []string{"create", "create_if_missing", "delete", "touch"}, DefaultAction: "create",
		Doc: doc, Props: fileProps(own...), Provider: contentProvider(load), Validate: validateBackup,
	}
}

// fileProps are the properties of every kind that manages a file's
// content, followed by the kind's own.
func fileProps(own ...recipes.Prop) []recipes.Prop {
	return append([]recipes.Prop{
		{Name: "path", Type: recipes.String, NameProperty: true, Public: true},
		{Name: "owner", Type: recipes.String, Public: true},
		{Name: "group", Type: recipes.String, Public: true},
		{Name: "mode", Type: recipes.Mode, Public: true},
		{Name: "verify", Type: recipes.String},
		{Name: "atomic_update", Type: recipes.Bool, Default: true},
		backupProp(),
	}, own...)
}
