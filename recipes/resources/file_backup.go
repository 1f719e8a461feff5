package resources

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/recipes"
)

// Chef's backup property of file, template, cookbook_file and
// remote_file: before a file's content is replaced or the file deleted,
// a copy goes to STATE_DIR/backup/<the file's path>.stackagent-<UTC
// time>, and only the newest N copies of each file are kept (default 5,
// false or 0: none).

const (
	defaultBackups = 5
	maxBackups     = 1000
	backupInfix    = ".stackagent-"
	defaultState   = "/var/lib/stackagent"
)

func backupProp() recipes.Prop {
	return recipes.Prop{Name: "backup", Type: recipes.Any, Default: int64(defaultBackups),
		Note: "previous versions kept in STATE_DIR/backup (0600); false: none"}
}

// backupCount reads backup: a number of versions, or false for none.
func backupCount(r *recipes.Resource) (int, error) {
	switch v := r.Get("backup").(type) {
	case nil:
		return defaultBackups, nil
	case bool:
		if v {
			return defaultBackups, nil
		}
		return 0, nil
	case int64:
		if v >= 0 && v <= maxBackups {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("property backup: want false or a number of versions 0-%d, got %v", maxBackups, r.Get("backup"))
}

func validateBackup(_ *recipes.RunContext, r *recipes.Resource) error {
	if _, lazy := r.Get("backup").(*recipes.Lazy); lazy {
		return nil
	}
	_, err := backupCount(r)
	return err
}

// backups keeps the previous versions of one file.
type backups struct {
	dir  string // STATE_DIR/backup under the run's root
	keep int
	now  func() time.Time
	// secret tells whether content holds a value the run knows as a
	// secret; sensitive is the resource's sensitive = true.
	secret    func([]byte) bool
	sensitive bool
}

// maxSecretScan is the largest old file read whole to look for secrets;
// a bigger one is backed up only when the resource is not sensitive and
// its new content holds no secret.
const maxSecretScan = 8 << 20

func newBackups(rc *recipes.RunContext, r *recipes.Resource) (*backups, error) {
	n, err := backupCount(r)
	if err != nil || n == 0 {
		return nil, err
	}
	state := rc.Node.GetString("stackagent.state_dir")
	if state == "" {
		state = defaultState
	}
	return &backups{dir: rc.Path(filepath.Join(state, "backup")), keep: n, now: rc.Now,
		secret: rc.HoldsSecret, sensitive: r.Sensitive}, nil
}

// save copies the file at path (display is the path the recipe wrote)
// into the backup directory and removes the copies beyond keep, oldest
// first; next is the content replacing it (nil for a delete). A nil b
// keeps nothing, and a file that holds a secret is never copied: a rotated
// password must not outlive its rotation in STATE_DIR/backup.
func (b *backups) save(display, path string, next []byte) error {
	if b == nil || b.holdsSecret(path, next) {
		return nil
	}
	dir := filepath.Join(b.dir, filepath.Dir(filepath.Clean(display)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("back up %s: %w", display, err)
	}
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("back up %s: %w", display, err)
	}
	defer src.Close()
	base := filepath.Base(display)
	name := filepath.Join(dir, base+backupInfix+b.now().UTC().Format("20060102150405.000000"))
	if err := atomicfile.Write(name, 0o600, func(w io.Writer) error { _, err := io.Copy(w, src); return err }); err != nil {
		return fmt.Errorf("back up %s: %w", display, err)
	}
	return b.prune(dir, base)
}

// holdsSecret tells whether the old file at path or its next content
// holds a secret, or the resource is sensitive.
func (b *backups) holdsSecret(path string, next []byte) bool {
	if b.sensitive || (next != nil && b.secret(next)) {
		return true
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() > maxSecretScan {
		return false
	}
	old, err := os.ReadFile(path)
	return err == nil && b.secret(old)
}

// prune removes the oldest copies of base beyond keep.
func (b *backups) prune(dir, base string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var copies []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), base+backupInfix) && !strings.Contains(strings.TrimPrefix(e.Name(), base+backupInfix), ".tmp-") && e.Type().IsRegular() {
			copies = append(copies, e.Name())
		}
	}
	sort.Strings(copies) // the times sort as text
	for len(copies) > b.keep {
		if err := os.Remove(filepath.Join(dir, copies[0])); err != nil {
			return err
		}
		copies = copies[1:]
	}
	return nil
}

// backupBeforeDelete makes the delete steps save the file first.
func backupBeforeDelete(steps []recipes.Step, b *backups, display, path string) []recipes.Step {
	for i := range steps {
		apply := steps[i].Apply
		steps[i].Apply = func(ctx context.Context) error {
			if err := b.save(display, path, nil); err != nil {
				return err
			}
			return apply(ctx)
		}
	}
	return steps
}
