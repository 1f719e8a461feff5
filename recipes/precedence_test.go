package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChefPrecedenceTable checks every pairing of Chef's attribute
// precedence table (https://docs.chef.io/attribute_precedence/) that
// stackagent has sources for: default, force_default, normal, override,
// force_override and automatic, from a cookbook attribute file, a recipe,
// a role and -j (normal). Chef's order, last wins: default (attribute
// file, recipe, role), force_default, normal (-j, attribute file, recipe),
// override (attribute file, recipe, role), force_override, automatic.
// Each key is set by two (or more) sources; the value names the winner.
func TestChefPrecedenceTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key, want string
		file      string // attributes/default.lua lines
		recipe    string // recipe lines, before the probe
		roleDef   string // role default_attributes value
		roleOver  string
		json      string // -j (normal)
		auto      string
	}{
		{key: "a", want: "role_default", file: "default.t.a = 'cookbook_default'", roleDef: "role_default"},
		{key: "b", want: "role_default", recipe: "node.default.t.b = 'recipe_default'", roleDef: "role_default"},
		{key: "c", want: "cookbook_force_default", file: "force_default.t.c = 'cookbook_force_default'", roleDef: "role_default"},
		{key: "d", want: "json_normal", roleDef: "role_default", json: "json_normal"},
		{key: "e", want: "cookbook_normal", file: "normal.t.e = 'cookbook_normal'", roleDef: "role_default"},
		{key: "f", want: "cookbook_override", file: "override.t.f = 'cookbook_override'", roleDef: "role_default"},
		{key: "g", want: "role_override", file: "override.t.g = 'cookbook_override'", roleOver: "role_override"},
		{key: "h", want: "role_override", recipe: "node.override.t.h = 'recipe_override'", roleOver: "role_override"},
		{key: "i", want: "role_override", file: "normal.t.i = 'cookbook_normal'", roleOver: "role_override", json: "json_normal"},
		{key: "j", want: "cookbook_force_override", file: "force_override.t.j = 'cookbook_force_override'", roleOver: "role_override"},
		{key: "k", want: "automatic", roleOver: "role_override", auto: "automatic",
			file: "force_override.t.k = 'cookbook_force_override'"},
		{key: "l", want: "cookbook_override", file: "override.t.l = 'cookbook_override'", json: "json_normal"},
		{key: "m", want: "recipe_normal", recipe: "node.normal.t.m = 'recipe_normal'", file: "normal.t.m = 'cookbook_normal'", json: "json_normal"},
		{key: "n", want: "recipe_force_default", recipe: "node.force_default.t.n = 'recipe_force_default'", roleDef: "role_default"},
	}
	var file, recipe strings.Builder
	roleDef, roleOver, json, auto := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	for _, c := range cases {
		file.WriteString(c.file + "\n")
		recipe.WriteString(c.recipe + "\n")
		for v, m := range map[string]map[string]any{c.roleDef: roleDef, c.roleOver: roleOver, c.json: json, c.auto: auto} {
			if v != "" {
				m[c.key] = v
			}
		}
	}
	for _, c := range cases {
		recipe.WriteString("probe '" + c.key + "' { value = tostring(node.t." + c.key + ") }\n")
	}
	set := books(t, map[string]string{"app/attributes/default.lua": file.String(), "app/recipes/default.lua": recipe.String()})
	roles := t.TempDir()
	role := `{"name": "web", "run_list": ["app"], "default_attributes": {"t": ` + mustJSON(t, roleDef) +
		`}, "override_attributes": {"t": ` + mustJSON(t, roleOver) + `}}`
	if err := os.WriteFile(filepath.Join(roles, "web.json"), []byte(role), 0o644); err != nil {
		t.Fatal(err)
	}
	node := NewNode("n")
	node.Merge(Normal, map[string]any{"t": json}) // what -j does (agent/engine.go)
	node.Merge(Automatic, map[string]any{"t": auto})
	p := newProbe()
	reg := NewRegistry()
	reg.Register(p.kind())
	items, _ := ParseRunList("role[web]")
	var out bytes.Buffer
	if _, err := Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: node, RunList: items,
		RolesDir: roles, Events: NewDocFormatter(&out), Runner: ExecRunner{}}); err != nil {
		t.Fatal(err, out.String())
	}
	for _, c := range cases {
		if got := p.state[c.key]; got != c.want {
			t.Errorf("t.%s = %q; want %q (Chef's precedence)", c.key, got, c.want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
