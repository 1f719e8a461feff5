package resources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// build is one new release in the making.
type build struct {
	d    *deployment
	src  *resolvedSource
	set  *ReleaseSet
	name string
}

// build makes the release complete: files, before_migrate, before_symlink,
// shared dirs and symlinks, owner, then its record. On error the release
// stays half-built (marked) and the next deploy removes it.
func (b *build) build(ctx context.Context) error {
	d := b.d
	if b.src.fill == nil {
		return errors.New("source was not fetched") // cannot happen: only unchanged sources skip it
	}
	if err := d.mkdir(d.dir); err != nil {
		return err
	}
	set, err := OpenReleaseSet(d.dir)
	if err != nil {
		return err
	}
	if err := d.mkdir(set.SharedDir()); err != nil {
		return err
	}
	b.set = set
	if b.name, err = set.NewRelease(d.rc.Now()); err != nil {
		return fmt.Errorf("new release: %w", err)
	}
	dir := set.Path(b.name)
	d.rc.Log.Info("deploy: building release", "app", d.r.Str("app"), "release", dir, "revision", b.src.revision)
	if err := b.fill(ctx, dir); err != nil {
		b.discard(dir)
		return err
	}
	if err := b.hook(ctx, "before_migrate"); err != nil {
		return err
	}
	if err := b.hook(ctx, "before_symlink"); err != nil {
		return err
	}
	if err := b.link(dir); err != nil {
		b.discard(dir)
		return err
	}
	if d.uid >= 0 || d.gid >= 0 {
		if err := chownTree(dir, d.uid, d.gid); err != nil {
			return err
		}
	}
	return set.Finish(b.name, b.src.revision, b.src.desc, d.rc.Now())
}

// switchCurrent makes the new release current, then runs before_restart.
func (b *build) switchCurrent(ctx context.Context) error {
	if err := b.set.Switch(b.name); err != nil {
		return err
	}
	return b.hook(ctx, "before_restart")
}

// hook runs the release's deploy/<name>.lua when it has one.
func (b *build) hook(ctx context.Context, name string) error {
	d := b.d
	dir := b.set.Path(b.name)
	file := filepath.Join(dir, "deploy", name+".lua")
	if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	env := d.r.Map("environment")
	if env == nil {
		env = map[string]any{}
	}
	err := d.rc.RunLuaFile(ctx, file, map[string]any{
		"release_path": dir, "shared_path": b.set.SharedDir(), "deploy_to": d.dir,
		"app": d.r.Str("app"), "environment": env,
	})
	if err != nil {
		return fmt.Errorf("deploy hook %s: %w", name, err)
	}
	return nil
}

// chownTree changes the owner of everything under dir, links included.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
