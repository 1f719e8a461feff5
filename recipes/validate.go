package recipes

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// ValidateSummary counts what Validate looked at.
type ValidateSummary struct {
	Cookbooks, Recipes, Templates, Resources int
}

// Validate compiles every recipe of the named cookbooks, each in a fresh
// runtime with a copy of the node, and every template they ship, and
// returns every error found (each once). Nothing converges.
func Validate(ctx context.Context, opts Options, names []string) (ValidateSummary, []error) {
	var sum ValidateSummary
	var errs []error
	seen := map[string]bool{}
	add := func(err error) {
		var list []error
		var ce CompileErrors
		if errors.As(err, &ce) {
			list = ce
		} else {
			list = []error{err}
		}
		for _, e := range list {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				errs = append(errs, e)
			}
		}
	}
	for _, name := range names {
		cb, ok := opts.Cookbooks.Get(name)
		if !ok {
			add(errors.New("cookbook " + name + ": " + ErrNoCookbook.Error()))
			continue
		}
		sum.Cookbooks++
		for _, r := range cb.Recipes() {
			sum.Recipes++
			o := opts
			o.Node = cloneNode(opts.Node)
			o.RunList = []RunListItem{{Recipe: cb.Name + "::" + r}}
			res, err := Compile(ctx, o)
			sum.Resources += len(res)
			if err != nil {
				add(err)
			}
		}
		if len(cb.Recipes()) == 0 && len(cb.listLua("resources")) > 0 {
			if err := validateCustomKinds(ctx, opts, cb); err != nil {
				add(err)
			}
		}
		sum.Templates += validateTemplates(ctx, opts, cb, add)
	}
	return sum, errs
}

func validateTemplates(ctx context.Context, opts Options, cb *Cookbook, add func(error)) int {
	opts.defaults()
	rt := newRuntime(ctx, &opts)
	defer rt.close()
	n := 0
	fs.WalkDir(cb.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		n++
		src, err := fs.ReadFile(cb.FS, p)
		if err == nil {
			_, err = rt.compileTemplate(string(src), cb.Display(p))
		}
		if err != nil {
			add(err)
		}
		return nil
	})
	return n
}

func cloneNode(n *Node) *Node {
	c := NewNode(n.Name)
	for l := Level(0); l < numLevels; l++ {
		c.levels[l] = jsontree.Copy(n.levels[l]).(map[string]any)
	}
	return c
}

// validateCustomKinds loads the custom resources of a cookbook that has no
// recipe to compile them with.
func validateCustomKinds(ctx context.Context, opts Options, cb *Cookbook) error {
	opts.defaults()
	opts.Node = cloneNode(opts.Node)
	rt := newRuntime(ctx, &opts)
	defer rt.close()
	books, err := rt.books.closure([]string{cb.Name})
	if err != nil {
		return err
	}
	return rt.loadCustomKinds(books)
}
