package cookbooks_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stackagent/stackagent/cookbooks"
	"github.com/stackagent/stackagent/internal/heal"
	"github.com/stackagent/stackagent/recipes"
)

// TestVhostResourceRendersAsTheLibrary converges the same virtual hosts
// through the apache2.vhost library the resource replaced (kept verbatim
// below) and through apache2_vhost, on Debian and Amazon Linux, and
// compares the files and links byte for byte.
func TestVhostResourceRendersAsTheLibrary(t *testing.T) {
	t.Parallel()
	vhosts := map[string]any{
		"plain": map[string]any{"docroot": "/srv/www/plain/current"},
		"shop": map[string]any{
			"server_name": "Shop.Example.com", "aliases": []any{"example.com", "*.shop.example.com"},
			"docroot": "/srv/www/shop/current/public", "port": 8080, "allow_override": "FileInfo Options",
			"environment":     map[string]any{"WP_ENV": "production", "QUOTED": `say "hi"`, "N": 42, "B": true},
			"extra":           "  Header set X-Frame-Options SAMEORIGIN",
			"directory_extra": "    RewriteEngine On\n    RewriteRule . index.php [L]",
		},
	}
	for _, p := range [][3]string{{"debian", "debian", "12"}, {"amazon", "amazon", "2023"}} {
		t.Run(p[0], func(t *testing.T) {
			t.Parallel()
			conf := map[string]string{"debian": "etc/apache2", "amazon": "etc/httpd"}[p[0]]
			trees := map[string]map[string]string{}
			for _, recipe := range []string{"legacyvhost::library", "legacyvhost::resource"} {
				root := t.TempDir()
				for _, d := range []string{"sites-available", "sites-enabled", "conf.d"} {
					os.MkdirAll(filepath.Join(root, conf, d), 0o755)
				}
				node := platformNode(t, p[0], p[1], p[2], hostIdentity(t), initScripts(t), map[string]any{"legacy": vhosts})
				convergeWith(t, root, node, legacyVhostCookbook(), recipe)
				trees[recipe] = confTree(t, filepath.Join(root, conf))
			}
			lib, res := trees["legacyvhost::library"], trees["legacyvhost::resource"]
			if len(lib) < 2 {
				t.Fatalf("the library rendered nothing: %v", lib)
			}
			for f, want := range lib {
				if got, ok := res[f]; !ok || got != want {
					t.Errorf("%s differs:\n--- library\n%s\n--- resource\n%s", f, want, got)
				}
			}
			for f := range res {
				if _, ok := lib[f]; !ok {
					t.Errorf("the resource made %s, the library did not", f)
				}
			}
		})
	}
}

// confTree maps each file of dir (relative) to its mode and content, and
// each link to its target.
func confTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.Mode()&os.ModeSymlink != 0 {
			to, err := os.Readlink(p)
			out[rel] = "-> " + to
			return err
		}
		b, err := os.ReadFile(p)
		out[rel] = fi.Mode().String() + "\n" + string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVhostResourceRefusesHostileValues: a value a recipe hands the
// resource (from stack JSON, say) that would inject a directive or leave
// its directory fails the resource with the property's name, through the
// short name vhost, and nothing is written.
func TestVhostResourceRefusesHostileValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, decl, want string }{
		{"directive through server_name", `vhost "shop" { docroot = "/srv/www/shop", server_name = "a.example.com\nAlias /leak /etc" }`, "property server_name: callback"},
		{"space through an alias", `vhost "shop" { docroot = "/srv/www/shop", aliases = { "ok.example.com", "x Include" } }`, `aliases[2]: invalid domain name "x Include"`},
		{"docroot leaving its place", `vhost "shop" { docroot = "/srv/www/../../etc" }`, "property docroot: callback"},
		{"directive through the port", `vhost "shop" { docroot = "/srv/www/shop", port = "80\nInclude /tmp/x" }`, "property port: callback"},
		{"directive through allow_override", `vhost "shop" { docroot = "/srv/www/shop", allow_override = "All\nInclude /tmp/x" }`, "property allow_override: callback"},
		{"app name as a path", `vhost "../../etc/cron.d/x" { docroot = "/srv/www/shop" }`, `invalid app name "../../etc/cron.d/x"`},
		{"directive through an environment name", `vhost "shop" { docroot = "/srv/www/shop", environment = { ["X\nInclude"] = "1" } }`, "is not a valid name"},
		{"directive through an environment value", `vhost "shop" { docroot = "/srv/www/shop", environment = lazy(function() return { X = "1\nInclude /tmp/x" } end) }`, "cannot hold a line break"},
		{"no docroot", `vhost "shop" { }`, "docroot is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for _, d := range []string{"etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			before := treeList(t, root)
			book := legacyVhostCookbook()
			book["legacyvhost/recipes/hostile.lua"] = &fstest.MapFile{Data: []byte("include_recipe \"apache2::service\"\n" + tc.decl + "\n"), Mode: 0o644}
			node := platformNode(t, "debian", "debian", "12", hostIdentity(t), initScripts(t))
			out, err := runWith(t, root, node, book, "legacyvhost::hostile")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "apache2_vhost[") {
				t.Fatalf("run: %v\nwant an error naming apache2_vhost and %s\n%s", err, tc.want, out)
			}
			if after := treeList(t, root); after != before {
				t.Errorf("files changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// convergeWith is converge with one more cookbook source.
func convergeWith(t *testing.T, root string, node *recipes.Node, extra fstest.MapFS, runList ...string) {
	t.Helper()
	if out, err := runWith(t, root, node, extra, runList...); err != nil {
		t.Fatalf("converge %v: %v\n%s", runList, err, out)
	}
}

// runWith runs runList with the embedded cookbooks and extra.
func runWith(t *testing.T, root string, node *recipes.Node, extra fstest.MapFS, runList ...string) (string, error) {
	t.Helper()
	set, errs := recipes.LoadCookbooks(recipes.CookbookSource{FS: cookbooks.FS, Origin: "embedded"},
		recipes.CookbookSource{FS: extra, Origin: "legacy"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	reg, _ := registry()
	items, err := recipes.ParseRunList(runList...)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = recipes.Run(context.Background(), recipes.Options{Registry: reg, Cookbooks: set, Node: node,
		RunList: items, Root: root, Runner: &fakeRunner{}, Events: recipes.NewDocFormatter(&out), Secrets: secrets})
	return out.String(), err
}

// legacyVhostCookbook declares node.legacy's vhosts with the old library
// (legacyvhost::library) and with the resource (legacyvhost::resource).
func legacyVhostCookbook() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	return fstest.MapFS{
		"legacyvhost/metadata.json":       f(`{"name": "legacyvhost", "version": "0.1.0", "depends": ["apache2"]}`),
		"legacyvhost/libraries/vhost.lua": f(legacyVhostLibrary),
		"legacyvhost/recipes/library.lua": f(`include_recipe "apache2::service"
local vhost = require "legacyvhost.vhost"
for name, v in pairs(node.legacy) do
  vhost.declare(name, { server_name = v.server_name, aliases = v.aliases, docroot = v.docroot, port = v.port,
    allow_override = v.allow_override, extra = v.extra, directory_extra = v.directory_extra,
    environment = function() return node.legacy[name].environment end })
end
`),
		"legacyvhost/recipes/resource.lua": f(`include_recipe "apache2::service"
for name, v in pairs(node.legacy) do
  apache2_vhost(name) { server_name = v.server_name, aliases = v.aliases, docroot = v.docroot, port = v.port,
    allow_override = v.allow_override, extra = v.extra, directory_extra = v.directory_extra,
    environment = lazy(function() return node.legacy[name].environment end),
    notifies = { "reload", "service[apache2]", "delayed" } }
end
`),
	}
}

// legacyVhostLibrary is cookbooks/apache2/libraries/vhost.lua as it was
// before the apache2_vhost resource replaced it.
const legacyVhostLibrary = `-- apache2.vhost: one Apache virtual host per app. Used by deploy::php,
-- the wordpress recipes and apache2::vhost:
--
--   local vhost = require "apache2.vhost"
--   vhost.declare("wordpress", {
--     server_name = "www.example.com", aliases = { "example.com" },
--     docroot = "/srv/www/wordpress/current",
--     environment = function() return node.deploy.wordpress.environment end,
--   })
--
-- extra is text for the <VirtualHost>, directory_extra for the document
-- root's <Directory> (per-directory context: .htaccess-style rewrite
-- rules, as WordPress Multisite's).
--
-- environment is a function called at converge time, so a secret
-- reference among the values is resolved then (and hidden in output).
-- The file is 0640 root:root since SetEnv values may be secrets; Apache
-- reads its configuration as root.
local M = {}

-- path is where the app's virtual host lives.
function M.path(name)
  validate.name(name, "apache2.vhost app", "app name")
  return node.apache.sites_available .. "/" .. name .. ".conf"
end

-- quote makes s an Apache double-quoted argument.
function M.quote(s)
  s = tostring(s)
  if s:find("[%c]") or s:find("\\$") then
    error("a value for SetEnv cannot hold a line break or control character, nor end in \\", 2)
  end
  -- Apache unescapes only \" inside a quoted argument.
  return '"' .. s:gsub('"', '\\"') .. '"'
end

-- env_list turns an environment map (a node view or a Lua table) into a
-- list of {name, value} sorted by name.
function M.env_list(env)
  local out = {}
  for k, v in pairs(env or {}) do
    if type(v) == "table" or type(v) == "userdata" then
      error("environment variable " .. k .. " must be a string, number or boolean", 2)
    end
    if not tostring(k):match("^[%a_][%w_]*$") then
      error("environment variable name " .. tostring(k) .. " is not a valid name", 2)
    end
    out[#out + 1] = { name = k, value = M.quote(v) }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function strings(list)
  local out = {}
  if type(list) ~= "table" then return out end
  for _, v in ipairs(list) do out[#out + 1] = tostring(v) end
  return out
end

-- declare renders the app's virtual host and, on the Debian family,
-- enables it; either change reloads Apache (delayed, once).
function M.declare(name, o)
  local apache = node.apache
  local path = M.path(name)
  local where = "vhost of app " .. name
  local server_name = validate.domain(o.server_name or node.fqdn or node.hostname or "localhost", where .. ": server_name")
  local aliases = strings(o.aliases)
  for i, a in ipairs(aliases) do aliases[i] = validate.domain(a, where .. ": aliases[" .. i .. "]", { wildcard = true }) end
  local docroot = validate.path(o.docroot, where .. ": docroot")
  local port = validate.port(o.port or apache.vhost_port, where .. ": port")
  local allow_override = validate.line(o.allow_override or apache.allow_override, where .. ": allow_override")
  validate.path(apache.log_dir, "node.apache.log_dir")
  -- An optional web check of the app by the agent's watchdog
  -- (node.apache.health_checks[name] = {path = "/", status = 200,
  -- timeout = 5}): GET 127.0.0.1 with Host server_name; failing checks
  -- restart Apache (docs/autoheal.md).
  local hc = o.health_check or (apache.health_checks or {})[name]
  if hc then
    node.default.stackagent.watch.http[name] = {
      service = "apache2", host = server_name, port = port,
      path = hc.path or "/", status = hc.status or 200, timeout = hc.timeout or 5,
    }
  end
  template(path) {
    source = "vhost.conf.erb",
    cookbook = "apache2",
    owner = apache.config_owner, group = apache.config_group, mode = "0640",
    variables = lazy(function()
      local env = o.environment and o.environment() or {}
      return {
        app = name, server_name = server_name, aliases = aliases, docroot = docroot, port = port,
        allow_override = allow_override, log_dir = apache.log_dir, environment = M.env_list(env),
        extra = o.extra or "", directory_extra = o.directory_extra or "",
      }
    end),
    notifies = { "reload", "service[apache2]", "delayed" },
  }
  if apache.layout == "debian" then
    link(apache.sites_enabled .. "/" .. name .. ".conf") {
      to = "../sites-available/" .. name .. ".conf",
      notifies = { "reload", "service[apache2]", "delayed" },
    }
  end
end

-- remove deletes the app's virtual host (undeploy).
function M.remove(name)
  local apache = node.apache
  if apache.layout == "debian" then
    link(apache.sites_enabled .. "/" .. name .. ".conf") {
      action = "delete",
      notifies = { "reload", "service[apache2]", "delayed" },
    }
  end
  file(M.path(name)) {
    action = "delete",
    notifies = { "reload", "service[apache2]", "delayed" },
  }
end

return M
`

// TestVhostWebCheckSurvivesAFailedRun: apache2::vhost registers an app's
// web check at compile time, so a run that fails before the vhost
// converges still leaves the watchdog its check.
func TestVhostWebCheckSurvivesAFailedRun(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	node := platformNode(t, "debian", "debian", "12", hostIdentity(t), initScripts(t), map[string]any{
		"apache": map[string]any{"vhosts": map[string]any{"shop": map[string]any{"server_name": "shop.test", "docroot": "/srv/www/shop"}},
			"health_checks": map[string]any{"shop": map[string]any{"path": "/health"}}},
	})
	book := legacyVhostCookbook()
	book["legacyvhost/recipes/fail.lua"] = &fstest.MapFile{Data: []byte(`file "/no/such/dir/x" { content = "x" }` + "\n"), Mode: 0o644}
	out, err := runWith(t, root, node, book, "legacyvhost::fail", "apache2", "apache2::vhost")
	if err == nil || strings.Contains(out, "apache2_vhost[shop]") {
		t.Fatalf("want the run to fail before the vhost: %v\n%s", err, out)
	}
	ws, errs := heal.ParseWatches(node.Merged())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(ws.Services) != 1 || len(ws.Services[0].HTTP) != 1 || ws.Services[0].HTTP[0].Host != "shop.test" || ws.Services[0].HTTP[0].Path != "/health" {
		t.Fatalf("watches after a failed run: %+v", ws)
	}
}
