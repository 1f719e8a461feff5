package resources

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

const vhostERB = `# <%= name %> on <%= node.app.host %>
<%# a comment -%>
<% for _, p in ipairs(ports) do -%>
listen <%= p %>
<% end -%>
<% if tls then %>tls on<% end %>
`

func TestTemplateRenders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipe string
		files        []string
		want         string
	}{
		{"variables, node, loops and trim",
			`template "/etc/app.conf" { variables = { name = "web", ports = {80, 443}, tls = true } }`,
			[]string{"test/templates/app.conf.erb", vhostERB},
			"# web on h1\nlisten 80\nlisten 443\ntls on\n"},
		{"explicit source in default dir",
			`template "/etc/app.conf" { source = "vhost.erb", variables = { name = "api", ports = {}, tls = false } }`,
			[]string{"test/templates/default/vhost.erb", vhostERB},
			"# api on h1\n\n"},
		{"other cookbook",
			`template "/etc/app.conf" { cookbook = "other", source = "x.erb" }`,
			[]string{"other/templates/x.erb", "<%% literal %%> <%= string.upper('lua') %>\n"},
			"<% literal %> LUA\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			res := converge(t, root, tt.recipe, false, tt.files...)
			if res.Err != nil || res.Report.UpdatedResources != 1 {
				t.Fatalf("run: %v\n%s", res.Err, res.Output)
			}
			if got := readFile(t, filepath.Join(root, "etc/app.conf")); got != tt.want {
				t.Fatalf("rendered %q, want %q", got, tt.want)
			}
			if !strings.Contains(res.Output, "- create new file /etc/app.conf") {
				t.Errorf("output:\n%s", res.Output)
			}
			if res = converge(t, root, tt.recipe, false, tt.files...); res.Err != nil || res.Report.UpdatedResources != 0 {
				t.Fatalf("second run: %v\n%s", res.Err, res.Output)
			}
		})
	}
}

// converge runs with the node attribute app.host = "h1".
func converge(t *testing.T, root, recipe string, whyRun bool, files ...string) recipestest.Result {
	t.Helper()
	m := map[string]string{"test/recipes/default.lua": recipe}
	for i := 0; i+1 < len(files); i += 2 {
		m[files[i]] = files[i+1]
	}
	return recipestest.Converge(t, fileRegistry(), m, recipestest.Opts{Root: root, WhyRun: whyRun,
		Normal: map[string]any{"app": map[string]any{"host": "h1"}}})
}

func TestTemplateChangeShowsDiff(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	tmpl := []string{"test/templates/app.conf.erb", "port <%= port %>\nname x\n"}
	mustRun(t, root, `template "/etc/app.conf" { variables = { port = 80 }, mode = "0640" }`, 1, tmpl...)
	assertConverges(t, root, `template "/etc/app.conf" { variables = { port = 8080 }, mode = "0640" }`,
		[]string{"- update content in file /etc/app.conf from ", "    -port 80\n    +port 8080\n     name x\n"}, tmpl...)
	if got := permOf(t, filepath.Join(root, "etc/app.conf")); got != "0640" {
		t.Errorf("mode %s", got)
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipe string
		files        []string
		want         []string
	}{
		{"missing template", `template "/etc/app.conf"`, nil,
			[]string{`template "app.conf.erb" not found in cookbook test`, "/cookbooks/test/templates/default/app.conf.erb", "/cookbooks/test/templates/app.conf.erb"}},
		{"lua error names file and line", `template "/etc/app.conf" { source = "bad.erb" }`,
			[]string{"test/templates/bad.erb", "line one\nline two\n<%= missing.field %>\n"},
			[]string{"/cookbooks/test/templates/bad.erb:3"}},
		{"lua syntax error names file and line", `template "/etc/app.conf" { source = "bad.erb" }`,
			[]string{"test/templates/bad.erb", "ok\n<% if then %>\n"},
			[]string{"/cookbooks/test/templates/bad.erb:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			res := assertFails(t, root, tt.recipe, tt.want[0], tt.files...)
			for _, w := range tt.want[1:] {
				if !strings.Contains(res.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, res.Output)
				}
			}
			assertAbsent(t, filepath.Join(root, "etc/app.conf"))
		})
	}
}

func TestTemplateSensitive(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	tmpl := []string{"test/templates/db.yml.erb", "password: <%= password %>\n"}
	mustRun(t, root, `template "/etc/db.yml" { variables = { password = "first-s3cret" }, sensitive = true }`, 1, tmpl...)
	res := mustRun(t, root, `template "/etc/db.yml" { variables = { password = "second-s3cret" }, sensitive = true }`, 1, tmpl...)
	assertHidden(t, res, "first-s3cret")
	assertHidden(t, res, "second-s3cret")
	if got := readFile(t, filepath.Join(root, "etc/db.yml")); got != "password: second-s3cret\n" {
		t.Fatalf("content %q", got)
	}
}

func TestTemplateWhyRun(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	tmpl := []string{"test/templates/app.conf.erb", "v=<%= v %>\n"}
	mustRun(t, root, `template "/etc/app.conf" { variables = { v = 1 } }`, 1, tmpl...)
	assertWhyRun(t, root, `
template "/etc/app.conf" { variables = { v = 2 }, mode = "0600" }
template "/etc/other.conf" { source = "app.conf.erb", variables = { v = 3 } }
`, []string{
		"- Would update content in file /etc/app.conf from",
		"-v=1\n    +v=2",
		"- Would change mode from '0644' to '0600'",
		"- Would create new file /etc/other.conf",
	}, tmpl...)
}

func TestCookbookFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, recipe string
		files        []string
		want         string
	}{
		{"default source", `cookbook_file "/etc/motd"`, []string{"test/files/motd", "hello\n"}, "hello\n"},
		{"platform default dir", `cookbook_file "/etc/motd" { source = "banner" }`, []string{"test/files/default/banner", "banner\n"}, "banner\n"},
		{"other cookbook", `cookbook_file "/etc/motd" { cookbook = "other" }`, []string{"other/files/motd", "other\n"}, "other\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := newRoot(t, "etc")
			res := mustRun(t, root, tt.recipe, 1, tt.files...)
			if got := readFile(t, filepath.Join(root, "etc/motd")); got != tt.want {
				t.Fatalf("content %q, want %q", got, tt.want)
			}
			if !strings.Contains(res.Output, "- create new file /etc/motd") {
				t.Errorf("output:\n%s", res.Output)
			}
			mustRun(t, root, tt.recipe, 0, tt.files...)
		})
	}
}

func TestCookbookFileChangesAndErrors(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc")
	writeFile(t, filepath.Join(root, "etc/motd"), "old\n", 0o644)
	res := mustRun(t, root, `cookbook_file "/etc/motd" { mode = "0600", sensitive = true }`, 1, "test/files/motd", "top-secret-banner\n")
	assertHidden(t, res, "top-secret-banner")
	if got := permOf(t, filepath.Join(root, "etc/motd")); got != "0600" {
		t.Fatalf("mode %s", got)
	}
	assertWhyRun(t, root, `cookbook_file "/etc/motd"`, []string{"- Would update content in file /etc/motd", "+new"}, "test/files/motd", "new\n")

	assertFails(t, root, `cookbook_file "/etc/motd" { source = "nope" }`, `file "nope" not found in cookbook test (looked for`)
}

func assertAbsent(t *testing.T, path string) {
	t.Helper()
	wantAbsent(strings.TrimPrefix(path, "/"))(t, "/")
}
