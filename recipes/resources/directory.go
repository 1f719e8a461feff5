package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stackagent/stackagent/recipes"
)

// defaultDirMode is the mode of a new directory whose resource declares none.
const defaultDirMode = 0o755

// directoryKind is Chef's directory resource. With recursive, create makes
// the missing parents too (owner, group and mode apply to the leaf only, as
// in Chef) and delete removes the whole tree.
func directoryKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "directory", Actions: []string{"create", "delete"}, DefaultAction: "create",
		Doc: "manage a directory",
		Props: []recipes.Prop{
			{Name: "path", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "owner", Type: recipes.String, Public: true},
			{Name: "group", Type: recipes.String, Public: true},
			{Name: "mode", Type: recipes.Mode, Public: true},
			{Name: "recursive", Type: recipes.Bool, Default: false},
		},
		Provider: recipes.ProviderFunc(planDirectory),
	}
}

func planDirectory(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	display := r.Str("path")
	path, err := hostPath(rc, display)
	if err != nil {
		return nil, err
	}
	cur, err := statDir(display, path)
	if err != nil {
		return nil, err
	}
	if action == "delete" {
		if !cur.exists {
			return nil, nil
		}
		remove := os.Remove
		if r.Bool("recursive") {
			remove = os.RemoveAll
		}
		return []recipes.Step{{Desc: "delete existing directory " + display, Apply: func(context.Context) error {
			return remove(path)
		}}}, nil
	}
	a, err := resolveAttrs(r)
	if err != nil {
		return nil, err
	}
	var steps []recipes.Step
	if !cur.exists {
		parent := filepath.Dir(path)
		if _, err := os.Stat(parent); err != nil && !r.Bool("recursive") {
			return nil, fmt.Errorf("parent directory %s does not exist, cannot create %s (set recursive = true)", filepath.Dir(display), display)
		}
		steps = append(steps, recipes.Step{Desc: "create new directory " + display, Apply: func(context.Context) error {
			if err := os.MkdirAll(parent, defaultDirMode); err != nil {
				return err
			}
			return mkdirAs(path, a)
		}})
	}
	return append(steps, a.steps(display, path, cur)...), nil
}

// statDir reads a directory resource's path; anything there but a
// directory is an error.
func statDir(display, path string) (node, error) {
	n, err := os.Stat(path) // a symlink to a directory is a directory, as in Chef
	if os.IsNotExist(err) {
		return node{}, nil
	}
	if err != nil {
		return node{}, err
	}
	if !n.IsDir() {
		return node{}, fmt.Errorf("%s exists and is not a directory", display)
	}
	return nodeOf(n), nil
}

// mkdirAs creates the directory under a temp name, gives it its owner,
// group and mode, and renames it into place, so that it never exists with
// the wrong permissions.
func mkdirAs(path string, a attrs) error {
	return renameIntoPlace(path,
		func(tmp string) error { return os.Mkdir(tmp, 0o700) },
		func(tmp string) error { return a.apply(tmp, node{}, defaultDirMode) })
}
