package resources

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/stackagent/stackagent/recipes"
)

// remoteDirectoryKind is Chef's remote_directory: a directory tree copied
// from a cookbook's files/SOURCE, with the directories' owner, group and
// mode and the files' (files_owner, files_group, files_mode); purge
// removes what the cookbook does not have. No path under the target may
// be a symlink: the copy never writes through a link.
func remoteDirectoryKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "remote_directory", Actions: []string{"create", "create_if_missing", "delete"}, DefaultAction: "create",
		Doc: "manage a directory tree copied from a cookbook",
		Props: []recipes.Prop{
			{Name: "path", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "source", Type: recipes.String, Note: "files/ directory; default the path's base name"},
			{Name: "cookbook", Type: recipes.String},
			{Name: "owner", Type: recipes.String, Public: true},
			{Name: "group", Type: recipes.String, Public: true},
			{Name: "mode", Type: recipes.Mode, Default: "0755", Public: true},
			{Name: "files_owner", Type: recipes.String, Public: true},
			{Name: "files_group", Type: recipes.String, Public: true},
			{Name: "files_mode", Type: recipes.Mode, Default: "0644", Public: true},
			{Name: "purge", Type: recipes.Bool, Default: false},
			{Name: "overwrite", Type: recipes.Bool, Default: true},
		},
		Provider: recipes.ProviderFunc(planRemoteDirectory),
	}
}

// treePlan collects the steps of one remote_directory.
type treePlan struct {
	display, root string
	dirA, fileA   attrs
	steps         []recipes.Step
}

func planRemoteDirectory(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	display := r.Str("path")
	root, err := hostPath(rc, display)
	if err != nil {
		return nil, err
	}
	n, err := lstatNode(root)
	if err != nil {
		return nil, err
	}
	if n.exists && (n.isLink || !n.isDir) {
		return nil, fmt.Errorf("%s is not a directory (a symlink or a file): refusing to manage it", display)
	}
	if action == "delete" || (action == "create_if_missing" && n.exists) {
		if !n.exists || action != "delete" {
			return nil, nil
		}
		return []recipes.Step{{Desc: "delete directory " + display + " and its content",
			Apply: func(context.Context) error { return os.RemoveAll(root) }}}, nil
	}
	files, err := remoteDirectoryFiles(rc, r, display)
	if err != nil {
		return nil, err
	}
	p := &treePlan{display: display, root: root}
	if p.dirA, err = attrsOf(r.Str("owner"), r.Str("group"), r.Str("mode")); err != nil {
		return nil, err
	}
	if p.fileA, err = attrsOf(r.Str("files_owner"), r.Str("files_group"), r.Str("files_mode")); err != nil {
		return nil, err
	}
	want := map[string]bool{".": true}
	for rel := range files {
		for d := path.Dir(rel); !want[d]; d = path.Dir(d) {
			want[d] = true
		}
		want[rel] = true
	}
	for _, d := range sortedSet(want) {
		if _, isFile := files[d]; isFile {
			err = p.file(d, files[d], r.Bool("overwrite"))
		} else {
			err = p.dir(d)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Bool("purge") && n.exists {
		if err := p.purge(want); err != nil {
			return nil, err
		}
	}
	return p.steps, nil
}

// remoteDirectoryFiles lists the cookbook files of r's source (default:
// the base name of its path) in its cookbook (default: its own).
func remoteDirectoryFiles(rc *recipes.RunContext, r *recipes.Resource, display string) (map[string][]byte, error) {
	cookbook, source := r.Str("cookbook"), r.Str("source")
	if cookbook == "" && r.Cookbook != nil {
		cookbook = r.Cookbook.Name
	}
	if source == "" {
		source = path.Base(display)
	}
	files, _, err := rc.CookbookDir(cookbook, source)
	return files, err
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] == "." || (out[j] != "." && out[i] < out[j]) })
	return out
}

func (p *treePlan) dir(rel string) error {
	full, show := filepath.Join(p.root, rel), path.Join(p.display, rel)
	n, err := lstatNode(full)
	if err != nil {
		return err
	}
	if n.exists && (n.isLink || !n.isDir) {
		return fmt.Errorf("%s is a symlink or a file, not a directory: refusing to write through it", show)
	}
	if !n.exists {
		p.steps = append(p.steps, recipes.Step{Desc: "create new directory " + show, Apply: func(context.Context) error {
			return renameIntoPlace(full, func(tmp string) error { return os.Mkdir(tmp, 0o700) },
				func(tmp string) error { return p.dirA.apply(tmp, node{}, 0o755) })
		}})
	}
	p.steps = append(p.steps, p.dirA.steps(show, full, n)...)
	return nil
}

func (p *treePlan) file(rel string, data []byte, overwrite bool) error {
	full, show := filepath.Join(p.root, rel), path.Join(p.display, rel)
	n, err := lstatNode(full)
	if err != nil {
		return err
	}
	if n.exists && (n.isLink || n.isDir) {
		return fmt.Errorf("%s is a symlink or a directory: refusing to write through it", show)
	}
	if n.exists {
		cur, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		if bytes.Equal(cur, data) || !overwrite {
			p.steps = append(p.steps, p.fileA.steps(show, full, n)...)
			return nil
		}
	}
	desc := "create new file " + show
	if n.exists {
		desc = "update content in file " + show
	}
	p.steps = append(p.steps, recipes.Step{Desc: desc, Apply: func(context.Context) error {
		return renameIntoPlace(full, func(tmp string) error { return os.WriteFile(tmp, data, 0o600) },
			func(tmp string) error { return p.fileA.apply(tmp, n, defaultFileMode) })
	}})
	return nil
}

// purge removes what is under the root and not in want.
func (p *treePlan) purge(want map[string]bool) error {
	return filepath.WalkDir(p.root, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p.root, full)
		if want[filepath.ToSlash(rel)] {
			return nil
		}
		p.steps = append(p.steps, recipes.Step{Desc: "delete " + path.Join(p.display, filepath.ToSlash(rel)) + " (purge)",
			Apply: func(context.Context) error { return os.RemoveAll(full) }})
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}
