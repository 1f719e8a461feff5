package resources

import (
	"context"
	"fmt"
	"os"

	"github.com/stackagent/stackagent/recipes"
)

// linkKind is Chef's link resource. A symbolic link holds `to` exactly as
// the recipe wrote it (it is what the host will read, whatever the run's
// root); a hard link is made to `to` inside the root. A wrong link or a
// file in the way is replaced atomically: a temp link, then a rename.
func linkKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "link", Actions: []string{"create", "delete"}, DefaultAction: "create",
		Doc: "manage a symbolic or hard link",
		Props: []recipes.Prop{
			{Name: "target_file", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "to", Type: recipes.String},
			{Name: "link_type", Type: recipes.String, Default: "symbolic", OneOf: []string{"symbolic", "hard"}},
			{Name: "owner", Type: recipes.String, Public: true},
			{Name: "group", Type: recipes.String, Public: true},
		},
		Provider: recipes.ProviderFunc(planLink),
	}
}

func planLink(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	display, to := r.Str("target_file"), r.Str("to")
	path, err := hostPath(rc, display)
	if err != nil {
		return nil, err
	}
	hard := r.Str("link_type") == "hard"
	cur, err := lstatNode(path)
	if err != nil {
		return nil, err
	}
	if cur.isDir {
		return nil, fmt.Errorf("cannot make a link at %s: it is a directory", display)
	}
	if action == "delete" {
		return planDeleteLink(display, path, cur, hard)
	}
	if to == "" {
		return nil, fmt.Errorf("link %s: property to is not set", display)
	}
	a, err := resolveAttrs(r)
	if err != nil {
		return nil, err
	}
	a.link = !hard
	realTo := to
	if hard {
		if realTo, err = hostPath(rc, to); err != nil {
			return nil, err
		}
	}
	ok, err := linkIsRight(path, to, realTo, cur, hard)
	if err != nil {
		return nil, err
	}
	if ok {
		return a.steps(display, path, cur), nil
	}
	var steps []recipes.Step
	if cur.exists && !cur.isLink {
		steps = append(steps, recipes.Step{Desc: "unlink existing file at " + display})
	}
	what, mk := "symlink", func(tmp string) error { return os.Symlink(to, tmp) }
	if hard {
		what, mk = "hard link", func(tmp string) error { return os.Link(realTo, tmp) }
	}
	steps = append(steps, recipes.Step{Desc: fmt.Sprintf("create %s at %s to %s", what, display, to), Apply: func(context.Context) error {
		return replaceWithLink(path, mk, a)
	}})
	return append(steps, a.steps(display, path, node{})...), nil
}

// linkIsRight reports whether path already is the declared link. A hard
// link's target must exist.
func linkIsRight(path, to, realTo string, cur node, hard bool) (bool, error) {
	if !hard {
		if !cur.isLink {
			return false, nil
		}
		got, err := os.Readlink(path)
		return got == to, err
	}
	target, err := os.Lstat(realTo)
	if os.IsNotExist(err) {
		return false, fmt.Errorf("hard link to %s: target does not exist", to)
	}
	if err != nil {
		return false, err
	}
	return cur.exists && os.SameFile(cur.info, target), nil
}

// replaceWithLink makes the link under a temp name in the same directory,
// sets its owner and group, and renames it over path.
func replaceWithLink(path string, mk func(tmp string) error, a attrs) error {
	return renameIntoPlace(path, mk, func(tmp string) error {
		if a.uid < 0 && a.gid < 0 {
			return nil
		}
		return a.chown(tmp, a.uid, a.gid)
	})
}

// planDeleteLink removes a link: a symlink for link_type symbolic (any
// other file there is an error, as in Chef), the file for hard.
func planDeleteLink(display, path string, cur node, hard bool) ([]recipes.Step, error) {
	if !cur.exists {
		return nil, nil
	}
	if !hard && !cur.isLink {
		return nil, fmt.Errorf("cannot delete %s: it is not a symbolic link", display)
	}
	return []recipes.Step{{Desc: "delete link at " + display, Apply: func(context.Context) error {
		return os.Remove(path)
	}}}, nil
}
