// Package resources holds the built-in resource kinds, one file each.
// Register adds them all to a registry.
package resources

import "github.com/stackagent/stackagent/recipes"

// Register adds every built-in resource kind to g.
func Register(g *recipes.Registry) {
	g.Register(logKind())
	g.Register(luaBlockKind())
	g.Register(notifyGroupKind())
	g.Register(httpRequestKind())
	registerFiles(g)
	registerSystem(g)
}
