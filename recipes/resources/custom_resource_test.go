package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// vhostCookbook is docs/custom-resources.md's worked example: an Apache
// virtual host as a custom resource of the "web" cookbook.
var vhostCookbook = map[string]string{
	"web/resources/vhost.lua": `
property "site" { type = "string", name_property = true,
  callbacks = { ["must be a host name"] = function(s) return s:match("^[a-z0-9][a-z0-9.-]*$") ~= nil end } }
property "port" { type = "number", default = 80,
  callbacks = { ["must be a port"] = function(p) return p >= 1 and p <= 65535 end } }
property "docroot" { type = "string", required = true }
property "enabled" { type = "boolean", default = true }

action "create" (function(r)
  local conf = "/etc/apache2/sites-available/" .. r.site .. ".conf"
  directory "/etc/apache2/sites-available" { recursive = true }
  directory "/etc/apache2/sites-enabled" { recursive = true }
  directory(r.docroot) { recursive = true }
  template(conf) { source = "vhost.conf.tpl", variables = { site = r.site, port = r.port, docroot = r.docroot } }
  if r.enabled then
    link("/etc/apache2/sites-enabled/" .. r.site .. ".conf") { to = conf }
  end
end)

action "delete" (function(r)
  link("/etc/apache2/sites-enabled/" .. r.site .. ".conf") { action = "delete" }
  file("/etc/apache2/sites-available/" .. r.site .. ".conf") { action = "delete" }
end)
`,
	"web/templates/vhost.conf.tpl": `<VirtualHost *:<%= port %>>
  ServerName <%= site %>
  DocumentRoot <%= docroot %>
</VirtualHost>
`,
	"test/metadata.json": `{"name": "test", "depends": ["web"]}`,
	"test/recipes/default.lua": `
file "/srv/reloaded" { content = "yes", action = "nothing" }
vhost "blog.example.com" { docroot = "/srv/blog", port = 8080, notifies = {"create", "file[/srv/reloaded]"} }
`,
}

func TestCustomResourceVhostOnRealTree(t *testing.T) {
	t.Parallel()
	reg := recipes.NewRegistry()
	Register(reg)
	root := t.TempDir()
	conf := filepath.Join(root, "etc/apache2/sites-available/blog.example.com.conf")

	res := recipestest.Converge(t, reg, vhostCookbook, recipestest.Opts{Root: root, WhyRun: true})
	if res.Err != nil {
		t.Fatalf("why-run: %v\n%s", res.Err, res.Output)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("why-run wrote %d entries under the root", len(ents))
	}
	for _, w := range []string{"  * web_vhost[blog.example.com] action create\n    * directory[/etc/apache2/sites-available] action create\n      - Would create new directory",
		"    * template[/etc/apache2/sites-available/blog.example.com.conf] action create\n", "Would create", "* file[/srv/reloaded] action create"} {
		if !strings.Contains(res.Output, w) {
			t.Errorf("why-run output lacks %q:\n%s", w, res.Output)
		}
	}

	res = recipestest.Converge(t, reg, vhostCookbook, recipestest.Opts{Root: root})
	if res.Err != nil {
		t.Fatalf("converge: %v\n%s", res.Err, res.Output)
	}
	b, err := os.ReadFile(conf)
	if err != nil || !strings.Contains(string(b), "<VirtualHost *:8080>\n  ServerName blog.example.com\n  DocumentRoot /srv/blog\n") {
		t.Fatalf("vhost file: %v %q", err, b)
	}
	if to, err := os.Readlink(filepath.Join(root, "etc/apache2/sites-enabled/blog.example.com.conf")); err != nil || to != "/etc/apache2/sites-available/blog.example.com.conf" {
		t.Errorf("site link: %q %v", to, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "srv/reloaded")); err != nil || string(b) != "yes" {
		t.Errorf("outer notification did not run: %q %v\n%s", b, err, res.Output)
	}
	if res.Report.UpdatedResources != 2 {
		t.Errorf("updated %d, want 2 (the vhost and the notified file)\n%s", res.Report.UpdatedResources, res.Output)
	}

	os.Remove(filepath.Join(root, "srv/reloaded"))
	res = recipestest.Converge(t, reg, vhostCookbook, recipestest.Opts{Root: root})
	if res.Err != nil || res.Report.UpdatedResources != 0 {
		t.Fatalf("second converge: %v, %d updated\n%s", res.Err, res.Report.UpdatedResources, res.Output)
	}
	if _, err := os.Stat(filepath.Join(root, "srv/reloaded")); err == nil {
		t.Errorf("the notification fired though the vhost was up to date")
	}
}

func TestCustomResourceVhostRejectsHostileName(t *testing.T) {
	t.Parallel()
	reg := recipes.NewRegistry()
	Register(reg)
	root := t.TempDir()
	files := map[string]string{}
	for k, v := range vhostCookbook {
		files[k] = v
	}
	files["test/recipes/default.lua"] = "\nvhost \"../../etc/passwd\" { docroot = \"/srv/x\" }"
	res := recipestest.Converge(t, reg, files, recipestest.Opts{Root: root})
	if res.Err == nil || !strings.Contains(res.Err.Error(), `web_vhost[../../etc/passwd] action create (/cookbooks/test/recipes/default.lua:2): property site: must be a host name (value "../../etc/passwd")`) {
		t.Fatalf("hostile name: %v\n%s", res.Err, res.Output)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("a rejected resource wrote %d entries", len(ents))
	}
}
