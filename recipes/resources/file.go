package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// fileKind is Chef's file resource: a file with the content, owner, group
// and mode the recipe declares. Without content, create makes an empty
// file when there is none and leaves an existing file's content alone.
func fileKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "file", Actions: []string{"create", "create_if_missing", "delete", "touch"}, DefaultAction: "create",
		Doc:      "manage a file and its content",
		Props:    fileProps(recipes.Prop{Name: "content", Type: recipes.String}),
		Provider: contentProvider(loadFileContent),
	}
}

func loadFileContent(_ context.Context, _ *recipes.RunContext, r *recipes.Resource, cur fileState) (*content, error) {
	if !r.IsSet("content") && cur.exists {
		return nil, nil
	}
	return memContent([]byte(r.Str("content"))), nil
}
