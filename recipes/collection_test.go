package recipes

import (
	"strings"
	"testing"
)

func TestNodeRunListAndRunState(t *testing.T) {
	t.Parallel()
	roles := t.TempDir()
	writeFile(t, roles+"/web.json", `{"name": "web", "run_list": ["role[base]", "app::two"]}`)
	writeFile(t, roles+"/base.json", `{"name": "base", "run_list": ["app"]}`)
	set := books(t, map[string]string{
		"app/recipes/default.lua": `
node.run_state.seen = "default"
probe "list" { value = table.concat(node.run_list, " ") }
probe "recipes" { value = table.concat(node.recipes, " ") }
probe "roles" { value = table.concat(node["roles"], " ") }
`,
		"app/recipes/two.lua": `probe "state" { value = node.run_state.seen .. "+two" }`,
	})
	p := newProbe()
	items, err := ParseRunList("role[web]", "app::two")
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry()
	reg.Register(p.kind())
	_, err = Run(t.Context(), Options{Registry: reg, Cookbooks: set, Node: NewNode("n"), RunList: items, RolesDir: roles})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"list": "role[web] recipe[app::two]", "recipes": "app::default app::two",
		"roles": "web base", "state": "default+two"}
	for k, v := range want {
		if p.state[k] != v {
			t.Errorf("probe %s = %q, want %q", k, p.state[k], v)
		}
	}
}

func TestFindEditDeleteResource(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua": `
action "create" (function(r)
  probe(r.name) { value = "inner" }
  edit_resource("probe", r.name, { value = "edited inside" })
end)
`,
		"web/recipes/default.lua": `
probe "a" { value = "1" }
probe "gone" { value = "x" }
site "s"
find_resource("probe", "a") { value = "2" }
edit_resource("probe", "new", { value = "3" })
assert(find_resource("probe", "missing") == nil)
assert(delete_resource("probe", "gone") == true)
assert(delete_resource("probe", "gone") == false)
assert(tostring(find_resource("site", "s")) == "web_site[s]")
`,
	})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "web")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	if got := strings.Join(p.applied, ","); got != "set a=2,set s=edited inside,set new=3" {
		t.Errorf("applied %s\n%s", got, r.out)
	}
	set = books(t, map[string]string{"web/recipes/default.lua": `
probe "a" { action = "nothing" }
probe "late" { only_if = function() return delete_resource("probe", "a") end }
`})
	r = runWith(t, newProbe(), set, nil, false, "web")
	if r.err == nil || !strings.Contains(r.err.Error(), "delete_resource: only while recipes compile") {
		t.Errorf("delete_resource at converge time: %v", r.err)
	}
}
