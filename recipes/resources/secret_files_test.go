package resources

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

type staticSecret string

func (s staticSecret) Resolve(context.Context, string) (string, error) { return string(s), nil }

// phpQuoted is the wordpress cookbook's PHP quoting (M.php) of a value.
func phpQuoted(v string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)
}

// leakForms lists what must not appear of a value: as is and escaped.
func leakForms(v string) []string {
	js, _ := json.Marshal(v)
	jp, _ := json.Marshal(phpQuoted(v))
	return []string{v, phpQuoted(v), strings.Trim(string(js), `"`), strings.Trim(string(jp), `"`),
		strings.ReplaceAll(v, `'`, `'\''`), strings.Trim(fmt.Sprintf("%q", v), `"`)}
}

// TestSecretMakesFileSensitive rotates a secret between two converges of a
// template that is not marked sensitive (a wp-config.php written by a site
// cookbook): the engine makes it sensitive on its own, so neither the old
// nor the new value shows, escaped or not, while a template without a
// secret still shows its diff.
func TestSecretMakesFileSensitive(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	files := map[string]string{
		"test/templates/wp-config.php.erb": "<?php\ndefine( 'DB_PASSWORD', '<%= password %>' );\n",
		"test/templates/plain.conf.erb":    "v=<%= v %>\n",
		"test/recipes/default.lua": `
template "/etc/wp-config.php" {
  variables = lazy(function() return { password = node.db.password:gsub("\\", "\\\\"):gsub("'", "\\'") } end),
}
template "/etc/plain.conf" { variables = { v = node.v } }
`,
	}
	attrs := func(v int) map[string]any {
		return map[string]any{"v": v, "db": map[string]any{"password": map[string]any{"secret": "ssm:/prod/db"}}}
	}
	old, rotated := `old'Pa\ss"<1>`, `new'Pa\ss"<2>`
	first := recipestest.Converge(t, fileRegistry(), files, recipestest.Opts{Root: root, Normal: attrs(1), Secrets: staticSecret(old)})
	second := recipestest.Converge(t, fileRegistry(), files, recipestest.Opts{Root: root, Normal: attrs(2), Secrets: staticSecret(rotated)})
	for _, res := range []recipestest.Result{first, second} {
		if res.Err != nil || res.Report.UpdatedResources != 2 {
			t.Fatalf("run: %v\n%s", res.Err, res.Output)
		}
		for _, v := range []string{old, rotated} {
			for _, f := range leakForms(v) {
				assertHidden(t, res, f)
			}
		}
	}
	if got := readFile(t, filepath.Join(root, "etc/wp-config.php")); !strings.Contains(got, phpQuoted(rotated)) {
		t.Fatalf("wp-config.php: %q", got)
	}
	rs := second.Report.Resources
	if !rs[0].Sensitive || len(rs[0].Diffs) != 0 || rs[1].Sensitive || len(rs[1].Diffs) != 1 {
		t.Fatalf("want the secret template sensitive without diff, the plain one with its diff: %+v", rs)
	}
	if !strings.Contains(second.Output, "-v=1") || !strings.Contains(second.Output, "suppressed sensitive resource output") {
		t.Fatalf("output:\n%s", second.Output)
	}
}

// TestCredentialAttributeHidden: a plaintext password in the attributes
// (no secret reference), even a 3-character one, never shows, and the
// file holding it is sensitive.
func TestCredentialAttributeHidden(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	recipe := `file "/etc/db.conf" { content = "user=wp\npass=" .. node.database.password .. "\n" }`
	for _, pw := range []string{"x9!", "longer-plain-password"} {
		res := recipestest.Converge(t, fileRegistry(), map[string]string{"test/recipes/default.lua": recipe},
			recipestest.Opts{Root: root, Normal: map[string]any{"database": map[string]any{"password": pw}}})
		if res.Err != nil || !res.Report.Resources[0].Sensitive {
			t.Fatalf("run: %v %+v\n%s", res.Err, res.Report.Resources, res.Output)
		}
		assertHidden(t, res, "pass="+pw)
		assertHidden(t, res, "x9!")
	}
}

// TestSecretHiddenInFailedDeclaration: a resource whose command holds a
// secret and whose guard fails (before the engine sees it converge)
// prints its declaration without the secret.
func TestSecretHiddenInFailedDeclaration(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	reg := recipes.NewRegistry()
	Register(reg)
	res := recipestest.Converge(t, reg, map[string]string{
		"test/recipes/default.lua": `execute "connect" { command = "exit 3 # " .. node.db.password, only_if = function() error("guard failed") end }`,
	}, recipestest.Opts{Root: root, Secrets: staticSecret("p4ss'w0rd"),
		Normal: map[string]any{"db": map[string]any{"password": map[string]any{"secret": "ssm:/prod/db"}}}})
	if res.Err == nil || !strings.Contains(res.Output, "Resource Declaration") {
		t.Fatalf("want a failure with its declaration: %v\n%s", res.Err, res.Output)
	}
	for _, f := range leakForms("p4ss'w0rd") {
		assertHidden(t, res, f)
	}
}
