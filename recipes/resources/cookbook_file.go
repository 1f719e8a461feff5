package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// cookbookFileKind is Chef's cookbook_file resource: a file copied from a
// cookbook's files/ directory.
func cookbookFileKind() *recipes.Kind {
	k := contentKind("cookbook_file", "manage a file copied from a cookbook", readCookbookFile,
		recipes.Prop{Name: "source", Type: recipes.String},
		recipes.Prop{Name: "cookbook", Type: recipes.String},
	)
	k.Validate = checkSource("", func(rc *recipes.RunContext, cookbook, source string) error {
		_, _, err := rc.CookbookFile(cookbook, "files", source)
		return err
	})
	return k
}

func readCookbookFile(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ fileState) (*content, error) {
	cookbook, source := sourceOf(r, "")
	b, _, err := rc.CookbookFile(cookbook, "files", source)
	if err != nil {
		return nil, err
	}
	return memContent(b), nil
}
