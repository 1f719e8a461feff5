package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/archive"
)

// How a release gets its shared dirs and symlinks. Every path is opened
// through an os.Root on the release (and one on shared/): a link in the
// release or in shared/ (the app's own, or one a hook made) is followed
// only while it stays inside, so nothing outside the release and shared/
// is ever removed or created.

// link purges, creates dirs, then links shared dirs and symlinks into
// the release (relative links, so the tree works under any root).
func (b *build) link(dir string) error {
	d := b.d
	rel, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer rel.Close()
	sharedDir := b.set.SharedDir()
	shared, err := os.OpenRoot(sharedDir)
	if err != nil {
		return err
	}
	defer shared.Close()
	for _, p := range d.r.Strings("purge_before_symlink") {
		if err := rel.RemoveAll(p); err != nil {
			return fmt.Errorf("purge_before_symlink %s: %w", p, err)
		}
	}
	for _, p := range d.r.Strings("create_dirs_before_symlink") {
		if err := rel.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create_dirs_before_symlink %s: %w", p, err)
		}
	}
	for _, p := range d.r.Strings("shared_dirs") {
		if err := d.mkdirShared(shared, p); err != nil {
			return fmt.Errorf("shared_dirs %s: %w", p, err)
		}
		if err := linkInto(rel, dir, filepath.Join(sharedDir, p), p); err != nil {
			return fmt.Errorf("shared_dirs %s: %w", p, err)
		}
	}
	links := d.r.Map("symlinks")
	keys := make([]string, 0, len(links))
	for k := range links {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, from := range keys {
		to, _ := links[from].(string)
		if err := linkInto(rel, dir, filepath.Join(sharedDir, from), to); err != nil {
			return fmt.Errorf("symlinks %s: %w", to, err)
		}
	}
	return nil
}

// linkInto replaces whatever is at name in the release rel (at dir) with
// a relative symlink to target, computed from where name's directory
// really is once the release's own links are followed.
func linkInto(rel *os.Root, dir, target, name string) error {
	if err := rel.RemoveAll(name); err != nil {
		return err
	}
	parent := filepath.Dir(name)
	if parent != "." {
		if err := rel.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	real, _, err := archive.Resolve(dir, parent)
	if err != nil {
		return err
	}
	text, err := filepath.Rel(filepath.Join(dir, filepath.FromSlash(real)), target)
	if err != nil {
		return err
	}
	return rel.Symlink(text, name)
}

// mkdirShared makes rel below shared and each missing directory on the
// way, owned as the resource says.
func (d *deployment) mkdirShared(shared *os.Root, rel string) error {
	p := ""
	for _, part := range strings.Split(filepath.Clean(rel), string(filepath.Separator)) {
		p = filepath.Join(p, part)
		if _, err := shared.Lstat(p); err == nil {
			continue
		}
		if err := shared.Mkdir(p, 0o755); err != nil {
			return err
		}
		if d.uid >= 0 || d.gid >= 0 {
			if err := shared.Lchown(p, d.uid, d.gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// fill puts the source's files into the release, then refuses it when a
// link in it (from an archive, a git checkout or a local directory) leads
// out of the release, through any chain of links.
func (b *build) fill(ctx context.Context, dir string) error {
	if err := b.src.fill(ctx, dir); err != nil {
		return err
	}
	if err := archive.CheckLinks(dir, true); err != nil {
		return fmt.Errorf("%s: %w", b.src.desc, err)
	}
	return nil
}

// discard removes a release whose files could not be put in place (a
// refused or failed archive, an unsafe link): nothing half-built stays.
func (b *build) discard(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		b.d.rc.Log.Warn("deploy: remove failed release", "release", dir, "err", err)
	}
}

// mkdir makes dir (its parents too) owned as the resource says.
func (d *deployment) mkdir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if d.uid >= 0 || d.gid >= 0 {
		return os.Chown(dir, d.uid, d.gid)
	}
	return nil
}
