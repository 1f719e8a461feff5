package resources

import (
	"context"

	"github.com/stackagent/stackagent/recipes"
)

// notifyGroupKind is Chef's notify_group: a resource that changes nothing
// and, when its run action runs (usually notified), counts as updated so
// that its own notifications fire: one name for a group of them.
func notifyGroupKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "notify_group", Actions: []string{"run"}, DefaultAction: "nothing",
		Doc: "fire its notifications when run (a named group of notifications)",
		Provider: recipes.ProviderFunc(func(context.Context, *recipes.RunContext, *recipes.Resource, string) ([]recipes.Step, error) {
			return []recipes.Step{{Desc: "notify the group's resources"}}, nil
		}),
	}
}
