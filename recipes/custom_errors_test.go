package recipes

import (
	"strings"
	"testing"
)

func TestCustomResourceDeclarationErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, resource, recipe string
		want                   []string
	}{
		{"bad type", `property "x" { type = "strnig" }` + "\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/resources/site.lua:1:", `property "x": type strnig: want string, number`}},
		{"unknown key", "action \"create\" (function() end)\nproperty \"x\" { type = \"string\", requird = true }", `site "a"`,
			[]string{"/cb/web/resources/site.lua:2:", `unknown option "requird"`, `did you mean "required"`}},
		{"duplicate property", "property \"x\" {}\n\nproperty \"x\" { type = \"number\" }\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/resources/site.lua:3:", `property "x" declared twice`}},
		{"common property", "property \"notifies\" {}\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/resources/site.lua:1:", `property "notifies": every resource has it already`}},
		{"bad default", "property \"n\" { type = \"number\", default = \"many\" }\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/resources/site.lua:1:", `property "n": default: want number`}},
		{"no action", `property "x" {}`, `site "a"`, []string{"/cb/web/resources/site.lua: web_site declares no action"}},
		{"unknown default action", "default_action \"make\"\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/resources/site.lua", `default_action "make": unknown action (actions: create)`}},
		{"unknown action in recipe", `action "create" (function() end)`, "\nsite \"a\" { action = \"destroy\" }",
			[]string{"/cb/web/recipes/default.lua:2:", `web_site[a]: unknown action "destroy" (actions: create)`}},
		{"unknown property in recipe", `property "port" { type = "number" }` + "\naction \"create\" (function() end)", `site "a" { prot = 1 }`,
			[]string{"/cb/web/recipes/default.lua:1:", `unknown property "prot"`, `did you mean "port"`}},
		{"wrong type in recipe", `property "port" { type = "number" }` + "\naction \"create\" (function() end)", `site "a" { port = "eighty" }`,
			[]string{"/cb/web/recipes/default.lua:1:", "web_site[a]: property port: want number"}},
		{"wrong table in recipe", `property "opts" { type = "table" }` + "\naction \"create\" (function() end)", `site "a" { opts = "x" }`,
			[]string{"/cb/web/recipes/default.lua:1: web_site[a]: property opts: want table"}},
		{"required", `property "port" { type = "number", required = true }` + "\naction \"create\" (function() end)", `site "a"`,
			[]string{"/cb/web/recipes/default.lua:1: web_site[a]: required property port is not set"}},
		{"declaration inside an action", "action \"create\" (function()\n  property \"late\" {}\nend)", `site "a"`,
			[]string{"/cb/web/resources/site.lua:2:", "property: only at the top of /cb/web/resources/site.lua, not inside an action"}},
		{"syntax", `action "create" (function() end`, `site "a"`, []string{"/cb/web/resources/site.lua:1:", "syntax error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := books(t, map[string]string{"web/resources/site.lua": tc.resource, "web/recipes/default.lua": tc.recipe})
			r := runWith(t, newProbe(), set, nil, false, "web")
			if r.err == nil {
				t.Fatalf("no error\n%s", r.out)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, r.err)
				}
			}
			if len(r.rep.Resources) != 0 && tc.name != "declaration inside an action" {
				t.Errorf("resources converged despite the compile error")
			}
		})
	}
}

func TestCustomResourceNameCollision(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"web/resources/site.lua":   `action "create" (function() probe "web" end)`,
		"blog/resources/site.lua":  `action "create" (function() probe "blog" end)`,
		"blog/resources/probe.lua": `action "create" (function() end)`,
		"app/metadata.json":        `{"name": "app", "depends": ["web", "blog"]}`,
	}
	files["app/recipes/default.lua"] = "web_site \"a\"\nblog_site \"b\"\nprobe \"c\"\nblog_probe \"d\""
	p := newProbe()
	r := runWith(t, p, books(t, files), nil, false, "app")
	if r.err != nil {
		t.Fatalf("long names: %v\n%s", r.err, r.out)
	}
	if got := strings.Join(p.applied, ","); got != "set web=on,set blog=on,set c=on" {
		t.Errorf("applied %s (the built-in probe must keep its short name)", got)
	}
	files["app/recipes/default.lua"] = "\nsite \"a\""
	r = runWith(t, p, books(t, files), nil, false, "app")
	if r.err == nil {
		t.Fatal("ambiguous short name accepted")
	}
	for _, w := range []string{"/cb/app/recipes/default.lua:2:", `resource kind "site" is ambiguous`, "/cb/blog/resources/site.lua and /cb/web/resources/site.lua", "blog_site or web_site"} {
		if !strings.Contains(r.err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, r.err)
		}
	}
}

func TestCustomResourceCannotHideBuiltins(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"web/resources/node.lua":       `action "create" (function() end)`,
		"web/resources/probe.lua":      `action "create" (function() end)`,
		"web/resources/lazy.lua":       `action "create" (function() end)`,
		"web/resources/default.lua":    `action "create" (function() end)`,
		"file/resources/exists.lua":    `action "create" (function() end)`,
		"app/metadata.json":            `{"name": "app", "depends": ["web"]}`,
		"app/recipes/default.lua":      "probe(node.platform or \"x\")\nweb_node \"n\"\nweb_lazy \"l\"",
		"withfile/metadata.json":       `{"name": "withfile", "depends": ["file"]}`,
		"withfile/recipes/default.lua": `file_exists("/")`,
	}
	p := newProbe()
	r := runWith(t, p, books(t, files), nil, false, "app")
	if r.err != nil {
		t.Fatalf("short names that would hide node, probe and lazy: %v\n%s", r.err, r.out)
	}
	if got := strings.Join(p.applied, ","); got != "set x=on" {
		t.Errorf("applied %s", got)
	}
	r = runWith(t, p, books(t, files), nil, false, "withfile")
	if r.err == nil || !strings.Contains(r.err.Error(), "/cb/file/resources/exists.lua: kind file_exists would hide the built-in kind or function") {
		t.Errorf("file_exists hidden: %v", r.err)
	}
}

func TestCustomResourceErrorsNameOuterAndInner(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua": `
property "port" { type = "number", default = 80, callbacks = { ["must be a port"] = function(p) return p > 0 and p < 65536 end } }
action "create" (function(new_resource)
  probe "ok"
  probe "inner" { action = "fail" }
end)
action "boom" (function(new_resource)
  error("no luck")
end)
`,
		"web/recipes/default.lua": `
site "a"
site "b" { port = 99999 }
`,
		"web/recipes/boom.lua": `site "c" { action = "boom" }`,
		"web/recipes/lazy.lua": `site "d" { port = lazy(function() return -1 end) }`,
	})
	p := newProbe()
	p.failN["inner"] = 1
	r := runWith(t, p, set, nil, false, "web")
	if r.err == nil {
		t.Fatal("inner failure did not fail the run")
	}
	for _, w := range []string{"web_site[a] action create (/cb/web/recipes/default.lua:2)", "probe[inner] action fail (/cb/web/resources/site.lua:5)", "failed on purpose"} {
		if !strings.Contains(r.err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, r.err)
		}
	}
	r = runWith(t, p, set, nil, false, "web")
	for _, w := range []string{"web_site[b] action create (/cb/web/recipes/default.lua:3)", "property port: must be a port (value 99999)"} {
		if r.err == nil || !strings.Contains(r.err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, r.err)
		}
	}
	r = runWith(t, p, set, nil, false, "web::boom")
	for _, w := range []string{"web_site[c] action boom (/cb/web/recipes/boom.lua:1)", "/cb/web/resources/site.lua:8: no luck"} {
		if r.err == nil || !strings.Contains(r.err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, r.err)
		}
	}
	r = runWith(t, p, set, nil, false, "web::lazy")
	if r.err == nil || !strings.Contains(r.err.Error(), "web_site[d] action create (/cb/web/recipes/lazy.lua:1): property port: must be a port (value -1)") {
		t.Errorf("lazy value not validated: %v", r.err)
	}
}

func TestCustomResourceNestedAndGuarded(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua": `
property "value" { type = "string", default = "on" }
action "create" (function(r) probe(r.name) { value = r.value } end)
`,
		"web/resources/stack.lua": `
property "sites" { type = "table", default = {} }
action "create" (function(r)
  for _, s in ipairs(r.sites) do site(s) { value = "stacked" } end
end)
`,
		"web/recipes/default.lua": `
probe "after" { action = "nothing" }
stack "all" { sites = {"one", "two"}, notifies = {"touch", "probe[after]"} }
stack "skipped" { sites = {"three"}, only_if = function() return false end }
site "guarded" { not_if = "true" }
`,
	})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "web")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	if got := strings.Join(p.applied, ","); got != "set one=stacked,set two=stacked,touch after" {
		t.Errorf("applied %s\n%s", got, r.out)
	}
	for _, w := range []string{"  * web_stack[all] action create\n    * web_site[one] action create\n      * probe[one] action set\n        - set one",
		"* web_stack[skipped] action create (skipped due to only_if)", "* web_site[guarded] action create (skipped due to not_if)"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q:\n%s", w, r.out)
		}
	}
}

func TestCustomResourceRetries(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua":  `action "create" (function(r) probe(r.name) { action = "fail" } end)`,
		"web/recipes/default.lua": `site "flaky" { retries = 2, retry_delay = 0.01 }`,
	})
	p := newProbe()
	p.failN["flaky"] = 2
	r := runWith(t, p, set, nil, false, "web")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	last := r.rep.Resources[len(r.rep.Resources)-1]
	if last.ID != "web_site[flaky]" || last.Attempts != 3 || p.failN["flaky"] != 0 {
		t.Errorf("outer report %+v, failures left %d", last, p.failN["flaky"])
	}
}

func TestValidateCookbookWithOnlyCustomResources(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"lib/metadata.json":       `{"name": "lib"}`,
		"lib/resources/good.lua":  `action "create" (function() end)`,
		"lib/resources/typo.lua":  "action \"create\" (function() end)\nproperty \"x\" { tpye = \"string\" }",
		"none/resources/fine.lua": `action "create" (function() end)`,
	})
	reg := NewRegistry()
	reg.Register(newProbe().kind())
	opts := Options{Registry: reg, Cookbooks: set, Node: NewNode("n")}
	_, errs := Validate(t.Context(), opts, []string{"lib"})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `/cb/lib/resources/typo.lua:2: property "x": unknown option "tpye"`) {
		t.Errorf("validate lib: %v", errs)
	}
	if _, errs := Validate(t.Context(), opts, []string{"none"}); len(errs) != 0 {
		t.Errorf("validate none: %v", errs)
	}
}
