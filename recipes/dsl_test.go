package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAttributePrecedence(t *testing.T) {
	t.Parallel()
	n := NewNode("n")
	n.Merge(Default, map[string]any{"a": map[string]any{"x": 1, "y": 1, "list": []any{1, 2}}, "d": "default"})
	n.Merge(Normal, map[string]any{"a": map[string]any{"y": 2, "list": []any{3}}})
	n.Merge(Override, map[string]any{"a": map[string]any{"z": 3}, "d": "override"})
	n.Merge(Automatic, map[string]any{"platform": "debian", "d": "automatic"})
	got := n.Merged()
	a := got["a"].(map[string]any)
	if a["x"] != int64(1) || a["y"] != int64(2) || a["z"] != int64(3) {
		t.Fatalf("deep merge: %v", a)
	}
	if l := a["list"].([]any); len(l) != 1 || l[0] != int64(3) {
		t.Fatalf("lists are replaced by the higher level, got %v", l)
	}
	if got["d"] != "automatic" {
		t.Fatalf("automatic wins, got %v", got["d"])
	}
	// Get returns copies: changing them does not change the node.
	a["x"] = 99
	if v, _ := n.Get("a", "x"); v != int64(1) {
		t.Fatal("Get leaked a reference")
	}
}

func TestAttributesFromLua(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"base/attributes/default.lua": "default.web.port = 80\ndefault.web.modules = {'rewrite', 'headers'}\noverride.web.user = 'www-data'\n",
		"base/attributes/z_more.lua":  "default.web.port = 8080 -- runs after default.lua\n",
		"app/metadata.json":           `{"name": "app", "depends": ["base"]}`,
		"app/recipes/default.lua": `
node.default.web.extra = "set in recipe"
local keys = {}
for k, v in pairs(node.web) do keys[#keys + 1] = k end
probe "keys" { value = table.concat(keys, ",") }
probe "port" { value = node.web.port .. "/" .. node.web.user .. "/" .. #node.web.modules }
probe "vars" { vars = { web = node.web }, value = tostring(node.missing) }
`,
	})
	p := newProbe()
	node := NewNode("n")
	node.Merge(Normal, map[string]any{"web": map[string]any{"user": "normal-loses-to-override"}})
	r := runWith(t, p, set, node, false, "app")
	if r.err != nil {
		t.Fatal(r.err, r.out)
	}
	if p.state["keys"] != "extra,modules,port,user" {
		t.Errorf("pairs(node.web) keys: %q", p.state["keys"])
	}
	if p.state["port"] != "8080/www-data/2" {
		t.Errorf("attributes: %q", p.state["port"])
	}
	if p.state["vars"] != "nil" {
		t.Errorf("missing attribute: %q", p.state["vars"])
	}
}

func TestNodeIsReadOnly(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": "\nnode.web = 1\n"})
	r := runWith(t, newProbe(), set, nil, false, "app")
	if r.err == nil || !strings.Contains(r.err.Error(), "/cb/app/recipes/default.lua:2: cannot set node.web: node is read-only") {
		t.Fatalf("got %v", r.err)
	}
}

func TestPropertyTypes(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "a" { mode = 420, tags = "one", count = 3 }
probe "b" { mode = "0750", tags = {"x", "y"}, color = "blue" }
`})
	reg := NewRegistry()
	p := newProbe()
	reg.Register(p.kind())
	items, _ := ParseRunList("app")
	res, err := Compile(context.Background(), Options{Registry: reg, Cookbooks: set, Node: NewNode("n"), RunList: items})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Str("mode") != "0644" || res[0].Strings("tags")[0] != "one" || res[0].Int("count") != 3 {
		t.Errorf("a: %v", res[0].props)
	}
	if res[1].Str("mode") != "0750" || len(res[1].Strings("tags")) != 2 || res[1].Str("color") != "blue" {
		t.Errorf("b: %v", res[1].props)
	}
	bad := []struct{ src, want string }{
		{`probe "x" { mode = "999" }`, "want a file mode of octal digits"},
		{`probe "x" { mode = 644 }`, `644 is 01204: write the octal digits as a string ("0644")`},
		{`probe "x" { mode = 1.5 }`, "want file mode"},
		{`probe "x" { count = 1.5 }`, "property count: want integer, got number 1.5"},
		{`probe "x" { color = "green" }`, `"green" is not one of red, blue`},
		{`probe "x" { tags = {1, {}} }`, "property tags: item 2: want string, got table"},
		{`probe "x" { vars = "s" }`, "property vars: want table"},
		{`probe "x" { retries = "many" }`, "property retries: want integer"},
		{`probe "x" { only_if = 3 }`, "property only_if: want a shell command string or a function"},
		{`probe "x" { notifies = {"set", "probe[x]", "later"} }`, `timing "later": want delayed, immediately or before`},
		{`probe "x" { notifies = {"explode", "probe[x]"} }`, `unknown action "explode"`},
		{`probe "x" { "positional" }`, "property names must be strings"},
		{`probe "" {}`, "the name must not be empty"},
	}
	for _, b := range bad {
		set := books(t, map[string]string{"app/recipes/default.lua": "\n" + b.src + "\n"})
		_, err := Compile(context.Background(), Options{Registry: reg, Cookbooks: set, Node: NewNode("n"), RunList: items})
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "default.lua:2") {
			t.Errorf("%s: got %v, want %q at line 2", b.src, err, b.want)
		}
	}
}

func TestConvergeTimeLuaErrorNamesFileLineAndResource(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "ok"
probe "lazy" {
  value = lazy(function()
    return nil .. "x"
  end),
}
`})
	r := runWith(t, newProbe(), set, nil, false, "app")
	var re *ResourceError
	if !errors.As(r.err, &re) || re.Resource.ID() != "probe[lazy]" {
		t.Fatalf("got %v", r.err)
	}
	if !strings.Contains(r.err.Error(), "/cb/app/recipes/default.lua:5") {
		t.Fatalf("error lacks the Lua line: %v", r.err)
	}
	if r.rep.Resources[0].Status != StatusUpdated {
		t.Fatalf("earlier resource should have converged: %+v", r.rep.Resources[0])
	}
}

func TestRequireCookbookLibrary(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"app/libraries/util.lua":  "local M = {}\nfunction M.join(a, b) return a .. '-' .. b end\nreturn M\n",
		"app/recipes/default.lua": "local util = require 'app.util'\nprobe(util.join('a', 'b'))\nassert(package.loaded['app.util'] == util)\n",
	})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil || p.state["a-b"] != "on" {
		t.Fatalf("require: %v %v", r.err, p.state)
	}
}

func TestSandboxHasNoIO(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"io.open('/etc/passwd')", "os.execute('true')", "dofile('/etc/passwd')"} {
		set := books(t, map[string]string{"app/recipes/default.lua": src + "\n"})
		r := runWith(t, newProbe(), set, nil, false, "app")
		if r.err == nil {
			t.Errorf("%s: want an error", src)
		}
	}
}

func TestRunListParsing(t *testing.T) {
	t.Parallel()
	items, err := ParseRunList("recipe[a::b], c", "role[web]", "d::e")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.String())
	}
	if strings.Join(got, " ") != "recipe[a::b] recipe[c::default] role[web] recipe[d::e]" {
		t.Fatalf("got %v", got)
	}
	for _, bad := range []string{"recipe[]", "a b", "role[x", "a::b::c"} {
		if _, err := ParseRunList(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestRoleLoop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir+"/a.json", `{"run_list": ["role[b]"]}`)
	writeFile(t, dir+"/b.json", `{"run_list": ["role[a]"]}`)
	items, _ := ParseRunList("role[a]")
	_, err := ExpandRunList(items, dir, NewNode("n"))
	if !errors.Is(err, ErrRoleLoop) || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Fatalf("got %v", err)
	}
}

func TestIncludeRecipeOnce(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"app/recipes/default.lua": "include_recipe 'app::common'\ninclude_recipe 'app::common'\nprobe 'main'\n",
		"app/recipes/common.lua":  "probe 'common'\n",
		"app/recipes/other.lua":   "include_recipe 'app::common'\nprobe 'other'\n",
	})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "app", "app::other", "app::common")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := strings.Join(p.applied, ","); got != "set common=on,set main=on,set other=on" {
		t.Fatalf("applied %s", got)
	}
}

type mapSecrets map[string]string

func (m mapSecrets) Resolve(_ context.Context, ref string) (string, error) {
	v, ok := m[ref]
	if !ok {
		return "", errors.New("no such parameter")
	}
	return v, nil
}

// TestSecretReferences: {"secret": REF} attribute values are resolved when
// read, reach the provider in clear, and appear nowhere in the output or
// the report.
func TestSecretReferences(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "plain" { value = "pw=" .. node.db.password }
probe "table" { vars = { db = node.db }, value = lazy(function() return node.db.password end) }
for k, v in pairs(node.db) do if k == "password" then probe "pairs" { value = v } end end
`})
	node := NewNode("n")
	node.Merge(Normal, map[string]any{"db": map[string]any{"user": "wp", "password": map[string]any{"secret": "ssm:/prod/wp/db_password"}}})
	reg := NewRegistry()
	p := newProbe()
	reg.Register(p.kind())
	var out bytes.Buffer
	items, _ := ParseRunList("app")
	rep, err := Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: node, RunList: items,
		Events: NewDocFormatter(&out), Secrets: mapSecrets{"ssm:/prod/wp/db_password": "s3cr3t-Pa55"}})
	if err != nil {
		t.Fatal(err, out.String())
	}
	if p.state["plain"] != "pw=s3cr3t-Pa55" || p.state["table"] != "s3cr3t-Pa55" || p.state["pairs"] != "s3cr3t-Pa55" {
		t.Fatalf("providers saw %v", p.state)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(out.String(), "s3cr3t-Pa55") || strings.Contains(string(b), "s3cr3t-Pa55") {
		t.Fatalf("secret leaked:\n%s\n%s", out.String(), b)
	}
	if !strings.Contains(out.String(), "*sensitive value suppressed*") {
		t.Fatalf("expected the secret to be shown as suppressed:\n%s", out.String())
	}
	// No resolver: a clear error naming the reference and the attribute.
	_, err = Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: node, RunList: items})
	if err == nil || !strings.Contains(err.Error(), `node.db.password: secret "ssm:/prod/wp/db_password": no secret resolver`) {
		t.Fatalf("got %v", err)
	}
}
