package recipes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/names"
)

// CompileErrors is every error found while compiling; nothing converges
// when there is one.
type CompileErrors []error

func (e CompileErrors) Error() string {
	msgs := make([]string, len(e))
	for i, x := range e {
		msgs[i] = x.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is and errors.As see each error.
func (e CompileErrors) Unwrap() []error { return e }

// ErrIncludeLoop is returned (wrapped) when recipes include each other.
var ErrIncludeLoop = errors.New("include loop")

// ErrNoRecipe is returned (wrapped) for a recipe name that is not in its
// cookbook.
var ErrNoRecipe = errors.New("recipe not found")

// compile runs the attributes files of the run's cookbooks, then the
// recipes of the run list, and resolves notifications.
func (rt *runtime) compile(rc *RunContext, runList []string) error {
	rt.compiling = true
	defer func() { rt.compiling = false }()
	rt.strictGlobals(rt.L)
	var names []string
	for _, r := range runList {
		cb, _, _ := strings.Cut(r, "::")
		names = append(names, cb)
	}
	books, err := rt.books.closure(names)
	if err != nil {
		return CompileErrors{err}
	}
	rt.allowed = map[string]bool{}
	for _, cb := range books {
		rt.allowed[cb.Name] = true
	}
	if err := rt.loadAttributes(books); err != nil {
		return CompileErrors{err}
	}
	if err := rt.loadCustomKinds(books); err != nil {
		return CompileErrors{err}
	}
	for _, r := range runList {
		if err := rt.includeRecipe(r, Pos{}); err != nil {
			return CompileErrors{err}
		}
	}
	if errs := rt.finalize(rc); len(errs) > 0 {
		return errs
	}
	return nil
}

// loadAttributes runs attributes/default.lua then the other attributes
// files of each cookbook, dependencies first, with default, force_default, normal,
// override and force_override bound to the node's levels.
func (rt *runtime) loadAttributes(books []*Cookbook) error {
	g := rt.L.G.Global
	for _, lvl := range recipeLevels {
		g.RawSetString(lvl.String(), rt.pushView(rt.L, &attrView{node: rt.node, level: lvl}))
	}
	defer func() {
		for _, lvl := range recipeLevels {
			g.RawSetString(lvl.String(), nil)
		}
	}()
	for _, cb := range books {
		files := cb.listLua("attributes")
		sort.SliceStable(files, func(i, j int) bool { return files[i] == "default" && files[j] != "default" })
		for _, f := range files {
			rt.curCB = cb
			if err := rt.runFile(cb, "attributes/"+f+".lua"); err != nil {
				return err
			}
		}
	}
	rt.curCB = nil
	return nil
}

// includeRecipe compiles a recipe once. Including a recipe that is being
// compiled (a loop) is an error naming the chain.
func (rt *runtime) includeRecipe(name string, from Pos) error {
	name = NormalizeRecipe(name)
	at := ""
	if from.File != "" {
		at = from.String() + ": "
	}
	for _, s := range rt.stack {
		if s == name {
			return fmt.Errorf("%sinclude_recipe %q: %w: %s", at, name, ErrIncludeLoop, strings.Join(append(rt.stack, name), " -> "))
		}
	}
	if rt.included[name] {
		return nil
	}
	cbName, recipe, _ := strings.Cut(name, "::")
	cb, ok := rt.books.Get(cbName)
	if !ok {
		return fmt.Errorf("%srecipe %s: cookbook %q: %w", at, name, cbName, ErrNoCookbook)
	}
	if !rt.allowed[cbName] {
		return fmt.Errorf("%sinclude_recipe %q: cookbook %q is not a dependency of %q: add it to depends in %s",
			at, name, cbName, rt.curCB.Name, rt.curCB.Display("metadata.json"))
	}
	rel := "recipes/" + recipe + ".lua"
	if _, err := fs.Stat(cb.FS, rel); err != nil {
		return fmt.Errorf("%srecipe %s: %w in cookbook %s (recipes: %s)", at, name, ErrNoRecipe, cb.Origin, strings.Join(cb.Recipes(), ", "))
	}
	rt.included[name] = true
	rt.stack = append(rt.stack, name)
	prevCB, prevRecipe := rt.curCB, rt.curRecipe
	rt.curCB, rt.curRecipe = cb, name
	rt.L.G.Global.RawSetString("cookbook_name", toLua(rt.L, cb.Name))
	rt.L.G.Global.RawSetString("recipe_name", toLua(rt.L, recipe))
	err := rt.runFile(cb, rel)
	rt.curCB, rt.curRecipe = prevCB, prevRecipe
	rt.stack = rt.stack[:len(rt.stack)-1]
	return err
}

// finalize checks required properties and resolves notifications and
// subscriptions to resources of the collection.
func (rt *runtime) finalize(rc *RunContext) CompileErrors {
	return rt.finalizeCollection(rc, rt.collection, nil)
}

// finalizeCollection finalizes coll; notifications may also name resources
// of outer (a custom resource's inner collection notifying the run's).
func (rt *runtime) finalizeCollection(rc *RunContext, coll, outer []*Resource) CompileErrors {
	var errs CompileErrors
	byID := map[string]*Resource{}
	for _, r := range append(outer[:len(outer):len(outer)], coll...) {
		byID[r.ID()] = r // the last declared wins, as in Chef
	}
	for _, r := range coll {
		missing := false
		for _, p := range r.Kind.Props {
			if p.Required && r.props[p.Name] == nil {
				missing = true
				errs = append(errs, fmt.Errorf("%s: %s: required property %s is not set", r.Decl, r.ID(), p.Name))
			}
		}
		if r.Kind.Validate != nil && !missing {
			if err := safeCall(func() error { return r.Kind.Validate(rc, r) }); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", r.Decl, r.ID(), err))
			}
		}
	}
	resolve := func(r *Resource, n rawNotification, what string) *Resource {
		t, ok := byID[rt.canonicalRef(strings.ReplaceAll(n.target, " ", ""))]
		if !ok {
			if t, ok = byID[rt.canonicalRef(n.target)]; !ok {
				errs = append(errs, fmt.Errorf("%s: %s %s: resource %s is not in the resource collection", n.decl, r.ID(), what, n.target))
				return nil
			}
		}
		return t
	}
	for _, r := range coll {
		for _, n := range r.rawNotify {
			t := resolve(r, n, "notifies")
			if t == nil {
				continue
			}
			if !t.Kind.hasAction(n.action) {
				errs = append(errs, fmt.Errorf("%s: %s notifies %s: unknown action %q (actions: %s)", n.decl, r.ID(), t.ID(), n.action, strings.Join(t.Kind.Actions, ", ")))
				continue
			}
			r.Notifies = append(r.Notifies, &Notification{Action: n.action, TargetRef: n.target, Target: t, Timing: n.timing, Decl: n.decl})
		}
		for _, n := range r.rawSubs {
			src := resolve(r, n, "subscribes to")
			if src == nil {
				continue
			}
			if !r.Kind.hasAction(n.action) {
				errs = append(errs, fmt.Errorf("%s: %s subscribes: unknown action %q (actions: %s)", n.decl, r.ID(), n.action, strings.Join(r.Kind.Actions, ", ")))
				continue
			}
			src.Notifies = append(src.Notifies, &Notification{Action: n.action, TargetRef: r.ID(), Target: r, Timing: n.timing, Decl: n.decl})
		}
	}
	return errs
}

// dataBag lists the items of a data bag (DATA_BAGS/BAG/*.json), sorted.
func (rt *runtime) dataBag(bag string) ([]string, error) {
	dir, err := rt.bagDir(bag)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data_bag %q: %w", bag, err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	return out, nil
}

func (rt *runtime) dataBagItem(bag, item string) (map[string]any, error) {
	dir, err := rt.bagDir(bag)
	if err != nil {
		return nil, err
	}
	if err := names.Check(fmt.Sprintf("data_bag_item(%q, …)", bag), "data bag item name", item); err != nil {
		return nil, err
	}
	m, err := ReadJSONFile(filepath.Join(dir, item+".json"))
	if err != nil {
		return nil, fmt.Errorf("data_bag_item %q %q: %w", bag, item, err)
	}
	return m, nil
}

func (rt *runtime) bagDir(bag string) (string, error) {
	if rt.opts.DataBagsDir == "" {
		return "", fmt.Errorf("data bag %q: no data bags directory configured (--data-bags DIR)", bag)
	}
	if err := names.Check("data_bag", "data bag name", bag); err != nil {
		return "", err
	}
	return filepath.Join(rt.opts.DataBagsDir, bag), nil
}
