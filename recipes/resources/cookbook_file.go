package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// cookbookFileKind is Chef's cookbook_file resource: a file copied from a
// cookbook's files/ directory.
func cookbookFileKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "cookbook_file", Actions: []string{"create", "create_if_missing", "delete", "touch"}, DefaultAction: "create",
		Doc: "manage a file copied from a cookbook",
		Props: fileProps(
			recipes.Prop{Name: "source", Type: recipes.String},
			recipes.Prop{Name: "cookbook", Type: recipes.String},
		),
		Provider: contentProvider(readCookbookFile),
		Validate: func(rc *recipes.RunContext, r *recipes.Resource) error {
			if !needsSource(r) {
				return nil
			}
			cookbook, source := sourceOf(r, "")
			_, _, err := rc.CookbookFile(cookbook, "files", source)
			return err
		},
	}
}

func readCookbookFile(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ fileState) (*content, error) {
	cookbook, source := sourceOf(r, "")
	b, _, err := rc.CookbookFile(cookbook, "files", source)
	if err != nil {
		return nil, err
	}
	return memContent(b), nil
}
