package resources

import (
	"context"
	"path"

	"github.com/stackagent/stackagent/recipes"
)

// templateKind is Chef's template resource: a file rendered from an ERB
// template (with Lua inside) of a cookbook's templates/ directory.
func templateKind() *recipes.Kind {
	k := contentKind("template", "manage a file rendered from a cookbook template", renderTemplate,
		recipes.Prop{Name: "source", Type: recipes.String},
		recipes.Prop{Name: "cookbook", Type: recipes.String},
		recipes.Prop{Name: "variables", Type: recipes.Map},
	)
	k.Validate = checkSource(".erb", (*recipes.RunContext).CheckTemplate)
	return k
}

func renderTemplate(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, _ fileState) (*content, error) {
	cookbook, source := sourceOf(r, ".erb")
	out, err := rc.Render(ctx, cookbook, source, r.Map("variables"))
	if err != nil {
		return nil, err
	}
	return memContent([]byte(out)), nil
}

// checkSource returns a Validate hook that checks at compile time that
// the resource's source is in the cookbook.
func checkSource(ext string, check func(rc *recipes.RunContext, cookbook, source string) error) func(*recipes.RunContext, *recipes.Resource) error {
	return func(rc *recipes.RunContext, r *recipes.Resource) error {
		if err := validateBackup(rc, r); err != nil {
			return err
		}
		if !needsSource(r) {
			return nil
		}
		cookbook, source := sourceOf(r, ext)
		return check(rc, cookbook, source)
	}
}

// needsSource reports whether a compile-time check of the resource's
// source is possible and useful: not for a delete, nor when the source,
// cookbook or path is lazy.
func needsSource(r *recipes.Resource) bool {
	for _, p := range []string{"source", "cookbook", "path"} {
		if _, lazy := r.Get(p).(*recipes.Lazy); lazy {
			return false
		}
	}
	for _, a := range r.Actions {
		if a != "delete" && a != "nothing" {
			return true
		}
	}
	return false
}

// sourceOf returns the cookbook and file a template or cookbook_file reads:
// by default the declaring cookbook and the path's base name plus ext.
func sourceOf(r *recipes.Resource, ext string) (cookbook, source string) {
	cookbook, source = r.Str("cookbook"), r.Str("source")
	if cookbook == "" && r.Cookbook != nil {
		cookbook = r.Cookbook.Name
	}
	if source == "" {
		source = path.Base(r.Str("path")) + ext
	}
	return cookbook, source
}
