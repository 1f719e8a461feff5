package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// fileKind is Chef's file resource: a file with the content, owner, group
// and mode the recipe declares. Without content, create makes an empty
// file when there is none and leaves an existing file's content alone.
func fileKind() *recipes.Kind {
	return contentKind("file", "manage a file and its content", loadFileContent,
		recipes.Prop{Name: "content", Type: recipes.String})
}

func loadFileContent(_ context.Context, _ *recipes.RunContext, r *recipes.Resource, cur fileState) (*content, error) {
	if !r.IsSet("content") && cur.exists {
		return nil, nil
	}
	return memContent([]byte(r.Str("content"))), nil
}
