package resources

import (
	"path/filepath"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestLazyInsideVariables: lazy values inside a template's variables, at
// any depth and in lists, are computed at converge time and rendered as
// their values (Chef's lazy in a variables hash).
func TestLazyInsideVariables(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	recipe := `
local release = "compile"
lua_block "pick" { block = function() release = "converge" end }
template "/app.conf" { variables = {
  name = lazy(function() return release end),
  nested = { deep = { v = lazy(function() return release .. "-deep" end) } },
  list = { "a", lazy(function() return release .. "-item" end) },
} }
`
	erb := "<%= name %> <%= nested.deep.v %> <%= list[1] %>,<%= list[2] %>\n"
	res := recipestest.Converge(t, sysRegistry(), map[string]string{"test/recipes/default.lua": recipe,
		"test/templates/app.conf.erb": erb}, recipestest.Opts{Root: root})
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	if got := readFile(t, filepath.Join(root, "app.conf")); got != "converge converge-deep a,converge-item\n" {
		t.Fatalf("rendered %q", got)
	}
}
