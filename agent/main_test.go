package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/testutil"
	"github.com/stackagent/stackagent/recipes"
)

// writeTree writes files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	testutil.WriteTree(t, dir, files)
}

type cli struct {
	code     int
	out, err string
}

func runCLI(t *testing.T, args ...string) cli {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return cli{code, out.String(), errb.String()}
}

// TestVersion: both spellings print the same line.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.out, "stackagent "+version+" ") || !strings.Contains(r.out, "gopher-lua") {
		t.Fatalf("version: %+v", r)
	}
	if f := runCLI(t, "--version"); f.code != 0 || f.out != r.out {
		t.Fatalf("--version = %+v, want the output of version %q", f, r.out)
	}
}

// TestRunRecipeAttributesRolesDataBags drives run-recipe as an operator
// would: a site cookbook, -j attributes carrying the run list, a role, a
// data bag and a report file, all under a temporary root.
func TestRunRecipeAttributesRolesDataBags(t *testing.T) {
	root := t.TempDir()
	cb := filepath.Join(root, "etc/stackagent/cookbooks")
	writeTree(t, root, map[string]string{
		"etc/stackagent/cookbooks/site/metadata.json":          `{"name": "site", "version": "1.0.0", "depends": ["stackagent"]}`,
		"etc/stackagent/cookbooks/site/attributes/default.lua": "default.site.greeting = 'hello'\ndefault.site.color = 'red'\n",
		"etc/stackagent/cookbooks/site/recipes/default.lua": `
local bag = data_bag_item("users", "deploy")
lua_block "record" {
  block = function()
    shell_out("printf '%s %s %s %s' " .. node.site.greeting .. " " .. node.site.color .. " " .. bag.shell .. " " .. node.site.from_role .. " > " .. node.out)
  end,
  not_if = "test -e " .. node.out,
}
`,
		"etc/stackagent/roles/web.json":              `{"name": "web", "run_list": ["recipe[site]"], "default_attributes": {"site": {"from_role": "role-default"}}, "override_attributes": {"site": {"color": "blue"}}}`,
		"etc/stackagent/data_bags/users/deploy.json": `{"id": "deploy", "shell": "/bin/bash"}`,
		"etc/stackagent/attributes.d/10-stack.json":  `{"site": {"greeting": "hi"}}`,
	})
	out := filepath.Join(root, "out.txt")
	attrs := filepath.Join(root, "node.json")
	writeTree(t, root, map[string]string{"node.json": `{"out": "` + out + `", "run_list": ["role[web]"]}`})
	report := filepath.Join(root, "report.json")
	r := runCLI(t, "run-recipe", "--root", root, "--cookbooks", cb, "-j", attrs, "--report", report)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// attributes.d (normal) beats the cookbook default; the role's override
	// beats both; the data bag and role default are readable.
	if string(got) != "hi blue /bin/bash role-default" {
		t.Fatalf("recipe saw %q", got)
	}
	var rep recipes.Report
	b, _ := os.ReadFile(report)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Status != "success" || rep.UpdatedResources != 1 || rep.ExpandedRunList[0] != "site::default" || rep.RunList[0] != "role[web]" {
		t.Fatalf("report: %s", b)
	}
	// Second run: the guard holds, nothing updates.
	r = runCLI(t, "run-recipe", "--root", root, "--cookbooks", cb, "-j", attrs)
	if r.code != 0 || !strings.Contains(r.out, "0/1 resources updated") {
		t.Fatalf("second run: %+v", r)
	}
}

func TestRunRecipeBadUsage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"bad.json": "{\n  \"a\": 1,\n  \"b\": \n}\n",
		"huge.json":          `{"php": {"limits": [1, 1e400]}}`,
		"deep.json":          `{"a":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`,
		"attrs/10-huge.json": `{"x": {"y z": -1e400}}`})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no run list", []string{"run-recipe", "--root", root}, "no run list"},
		{"bad json", []string{"run-recipe", "--root", root, "-j", filepath.Join(root, "bad.json"), "x"}, "bad.json: line 4, column 1"},
		{"missing json", []string{"run-recipe", "--root", root, "-j", filepath.Join(root, "nope.json"), "x"}, "nope.json"},
		{"number out of range", []string{"run-recipe", "--root", root, "-j", filepath.Join(root, "huge.json"), "x"}, "huge.json: php.limits[1]: number out of range"},
		{"nested too deep", []string{"run-recipe", "--root", root, "-j", filepath.Join(root, "deep.json"), "x"}, "deep.json: JSON nested more than 64 levels deep"},
		{"attributes.d number out of range", []string{"run-recipe", "--root", root, "--attributes-dir", filepath.Join(root, "attrs"), "x"}, `10-huge.json: x["y z"]: number out of range`},
		{"bad run list entry", []string{"run-recipe", "--root", root, "recipe[a b]"}, "run list entry"},
		{"unknown cookbook", []string{"run-recipe", "--root", root, "nosuch::thing"}, `cookbook "nosuch": cookbook not found`},
		{"bad log format", []string{"run-recipe", "--log-format", "xml", "x"}, "--log-format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.args...)
			if r.code != 1 || !strings.Contains(r.out+r.err, c.want) {
				t.Fatalf("exit %d, want 1 and %q in:\n%s\n%s", r.code, c.want, r.out, r.err)
			}
		})
	}
}

// TestCompileErrors is the table of bad cookbooks: each fails at compile
// time with file:line, exits 1, and converges nothing (the marker resource
// declared before the error never runs).
func TestCompileErrors(t *testing.T) {
	marker := `lua_block "marker" { block = function() shell_out("touch " .. node.marker) end }` + "\n"
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"syntax error", map[string]string{"bad/recipes/default.lua": marker + "log \"x\" {\n  level = \"info\"\n"},
			[]string{"bad/recipes/default.lua:3", "syntax error: unexpected end of file"}},
		{"unknown kind", map[string]string{"bad/recipes/default.lua": marker + "\nfrobnicate \"x\" {}\n"},
			[]string{"bad/recipes/default.lua:3", `unknown resource kind or undefined name "frobnicate"`}},
		{"unknown property", map[string]string{"bad/recipes/default.lua": marker + "log \"x\" { levle = \"warn\" }\n"},
			[]string{"bad/recipes/default.lua:2", `log[x]: unknown property "levle" (did you mean "level"?)`}},
		{"wrong type", map[string]string{"bad/recipes/default.lua": marker + "lua_block \"y\" {\n  block = \"not a function\",\n}\n"},
			[]string{"bad/recipes/default.lua:2", "lua_block[y]: property block: want function, got string"}},
		{"bad action", map[string]string{"bad/recipes/default.lua": marker + "log \"x\" { action = \"shout\" }\n"},
			[]string{"bad/recipes/default.lua:2", `unknown action "shout" (actions: write)`}},
		{"missing template", map[string]string{"bad/recipes/default.lua": marker + "template \"/etc/x.conf\" { source = \"nope.conf.erb\" }\n"},
			[]string{"bad/recipes/default.lua:2", "template[/etc/x.conf]", `"nope.conf.erb" not found in cookbook bad`}},
		{"template syntax", map[string]string{"bad/recipes/default.lua": marker + "template \"/etc/x.conf\" {}\n",
			"bad/templates/x.conf.erb": "a\n<% if then %>\n"},
			[]string{"bad/templates/x.conf.erb:2", "syntax error"}},
		{"include loop", map[string]string{"bad/recipes/default.lua": marker + "include_recipe \"bad::two\"\n",
			"bad/recipes/two.lua": "\ninclude_recipe \"bad::default\"\n"},
			[]string{"bad/recipes/two.lua:2", "include loop: bad::default -> bad::two -> bad::default"}},
		{"missing recipe", map[string]string{"bad/recipes/default.lua": marker + "include_recipe \"bad::nope\"\n"},
			[]string{"bad/recipes/default.lua:2", "recipe not found", "recipes: default"}},
		{"undeclared dependency", map[string]string{"bad/recipes/default.lua": marker + "include_recipe \"other\"\n",
			"other/recipes/default.lua": "log 'x'\n"},
			[]string{"bad/recipes/default.lua:2", `cookbook "other" is not a dependency of "bad"`}},
		{"missing notification target", map[string]string{"bad/recipes/default.lua": marker + "log \"x\" { notifies = {\"write\", \"log[nope]\"} }\n"},
			[]string{"bad/recipes/default.lua:2", "resource log[nope] is not in the resource collection"}},
		{"runtime lua error", map[string]string{"bad/recipes/default.lua": marker + "local t = nil\nlog(t.name)\n"},
			[]string{"bad/recipes/default.lua:3", "attempt to index"}},
		{"bad metadata", map[string]string{"bad/recipes/default.lua": marker, "bad/metadata.json": "{\"name\": \"bad\",\n \"depends\": 3}"},
			[]string{"bad/metadata.json", "field depends"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, filepath.Join(root, "cb"), c.files)
			m := filepath.Join(root, "marker")
			r := runCLI(t, "run-recipe", "--root", root, "--cookbooks", filepath.Join(root, "cb"), "-j", writeJSON(t, root, map[string]any{"marker": m}), "bad")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.out, r.err)
			}
			for _, w := range c.want {
				if !strings.Contains(r.out+r.err, w) {
					t.Errorf("output lacks %q:\n%s\n%s", w, r.out, r.err)
				}
			}
			if _, err := os.Stat(m); err == nil {
				t.Errorf("a resource converged despite the compile error")
			}
			// validate finds the same error without converging.
			v := runCLI(t, "validate", filepath.Join(root, "cb"))
			if v.code != 1 || !strings.Contains(v.out, c.want[0]) {
				t.Errorf("validate: exit %d\n%s", v.code, v.out)
			}
		})
	}
}

func writeJSON(t *testing.T, dir string, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	f, err := os.CreateTemp(dir, "attrs-*.json")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b)
	f.Close()
	return f.Name()
}

func TestValidateReportsEveryError(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a/recipes/default.lua": "log \"ok\"\n",
		"a/recipes/bad1.lua":    "log \"x\" { nope = 1 }\n",
		"a/recipes/bad2.lua":    "\n\nfrobnicate \"y\"\n",
		"b/recipes/default.lua": "log \"x\" {\n",
		"b/templates/t.erb":     "<%= x %>\n<% end %>\n",
	})
	r := runCLI(t, "validate", root)
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r.out)
	}
	for _, w := range []string{"a/recipes/bad1.lua:1", "a/recipes/bad2.lua:3", "b/recipes/default.lua:1: syntax error", "b/templates/t.erb:2", "2 cookbooks, 4 recipes", "4 errors"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("validate output lacks %q:\n%s", w, r.out)
		}
	}
	good := t.TempDir()
	writeTree(t, good, map[string]string{"a/recipes/default.lua": "log \"ok\"\n"})
	if r := runCLI(t, "validate", good); r.code != 0 || !strings.Contains(r.out, "0 errors") {
		t.Fatalf("validate good: %+v", r)
	}
}
