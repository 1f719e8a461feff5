package cookbooks_test

import (
	"context"
	"github.com/stackagent/stackagent/recipes/recipestest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
)

// The rewrite rules WordPress documents for each network type
// (https://wordpress.org/documentation/article/htaccess/#multisite, as
// wp-admin/includes/network.php prints them), as the vhost's <Directory>
// must carry them.
const (
	subdirectoryRules = `    RewriteEngine On
    RewriteOptions InheritDownBefore
    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
    RewriteBase /
    RewriteRule ^index\.php$ - [L]

    # add a trailing slash to /wp-admin
    RewriteRule ^([_0-9a-zA-Z-]+/)?wp-admin$ $1wp-admin/ [R=301,L]

    RewriteCond %{REQUEST_FILENAME} -f [OR]
    RewriteCond %{REQUEST_FILENAME} -d
    RewriteRule ^ - [L]
    RewriteRule ^([_0-9a-zA-Z-]+/)?(wp-(content|admin|includes).*) $2 [L]
    RewriteRule ^([_0-9a-zA-Z-]+/)?(.*\.php)$ $2 [L]
    RewriteRule . index.php [L]
  </Directory>
`
	subdomainRules = `    RewriteEngine On
    RewriteOptions InheritDownBefore
    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
    RewriteBase /
    RewriteRule ^index\.php$ - [L]

    # add a trailing slash to /wp-admin
    RewriteRule ^wp-admin$ wp-admin/ [R=301,L]

    RewriteCond %{REQUEST_FILENAME} -f [OR]
    RewriteCond %{REQUEST_FILENAME} -d
    RewriteRule ^ - [L]
    RewriteRule ^(wp-(content|admin|includes).*) $1 [L]
    RewriteRule ^(.*\.php)$ $1 [L]
    RewriteRule . index.php [L]
  </Directory>
`
)

// multisiteStack is a host with three apps: a subdirectory network
// (netdir), a subdomain network (netsub, reached as www.example.org) and
// a PHP app (api), each with its own domains, environment and database.
func multisiteStack(t *testing.T, root string) map[string]any {
	t.Helper()
	for _, app := range []string{"netdir", "netsub", "api"} {
		src := filepath.Join(root, "src", app)
		for f, body := range map[string]string{"index.php": "<?php echo '" + app + "';\n", "wp-settings.php": "<?php\n"} {
			os.MkdirAll(src, 0o755)
			os.WriteFile(filepath.Join(src, f), []byte(body), 0o644)
		}
	}
	for _, d := range []string{"etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	local := func(app string) map[string]any {
		return map[string]any{"scm_type": "local", "repository": "/src/" + app}
	}
	return map[string]any{
		"deploy": map[string]any{
			"netdir": map[string]any{
				"application_type": "wordpress", "scm": local("netdir"),
				"domains":     []any{"blog.example.com", "www.blog.example.com"},
				"environment": map[string]any{"WP_ENV": "netdir"},
				"database":    map[string]any{"host": "db1", "database": "netdir", "username": "netdir", "password": "pw-netdir"},
				"wordpress": map[string]any{
					"multisite": map[string]any{"enabled": true, "type": "subdirectory"},
					// The network's own defines win over these.
					"defines": map[string]any{"MULTISITE": false, "WP_MEMORY_LIMIT": "256M"},
				},
			},
			"netsub": map[string]any{
				"application_type": "wordpress", "scm": local("netsub"),
				"domains":     []any{"www.example.org"},
				"environment": map[string]any{"WP_ENV": "netsub"},
				"database":    map[string]any{"host": "db2", "database": "netsub", "username": "netsub", "password": "pw-netsub"},
				"wordpress": map[string]any{"table_prefix": "sub_",
					"multisite": map[string]any{"enabled": true, "type": "subdomain"}},
			},
			"api": map[string]any{
				"application_type": "php", "scm": local("api"), "document_root": "public",
				"domains": []any{"api.example.net"}, "environment": map[string]any{"APP_ENV": "api"},
			},
		},
		"stackagent": map[string]any{"event": map[string]any{"type": "deploy", "app": "", "command": "deploy"}},
	}
}

// TestMultisiteRender converges wordpress::deploy and deploy::php with a
// deploy event that names no app: every app of both layers is deployed,
// each with its own releases, vhost and wp-config.php. The subdirectory
// and subdomain networks' files carry exactly WordPress's defines and
// rewrite rules; the PHP app's vhost has neither.
func TestMultisiteRender(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	stack := multisiteStack(t, root)
	node := platformNode(t, "debian", "debian", "12", stack, hostIdentity(t), initScripts(t))
	converge(t, root, node, &fakeRunner{}, "wordpress::deploy", "deploy::php")

	if _, real := registry(); real {
		for _, app := range []string{"netdir", "netsub", "api"} {
			rels, _ := filepath.Glob(filepath.Join(root, "srv/www", app, "releases/*"))
			if len(rels) != 1 {
				t.Errorf("%s: releases %v, want 1 (a deploy without an app deploys every app)", app, rels)
			}
			index := read(t, filepath.Join(root, "srv/www", app, "current/index.php"))
			if !strings.Contains(index, app) {
				t.Errorf("%s: current/index.php is %q", app, index)
			}
		}
	}

	dir := read(t, filepath.Join(root, "etc/apache2/sites-available/netdir.conf"))
	mustContain(t, "netdir vhost", dir,
		"  ServerName blog.example.com\n  ServerAlias www.blog.example.com\n  DocumentRoot /srv/www/netdir/current\n",
		"    AllowOverride All\n    Require all granted\n\n"+
			"    # WordPress Multisite, subdirectory network: the rules of\n"+
			"    # https://wordpress.org/documentation/article/htaccess/#multisite\n"+subdirectoryRules,
		`  SetEnv WP_ENV "netdir"`+"\n")
	if strings.Contains(dir, "ServerAlias *") {
		t.Errorf("a subdirectory network has a wildcard alias:\n%s", dir)
	}
	cfg := read(t, filepath.Join(root, "srv/www/netdir/shared/config/wp-config.php"))
	mustContain(t, "netdir wp-config.php", cfg,
		"define( 'DB_NAME', 'netdir' );\n", "define( 'DB_PASSWORD', 'pw-netdir' );\n", "define( 'DB_HOST', 'db1' );\n",
		"/* WordPress Multisite: a subdirectory network (node.deploy.netdir.wordpress.multisite). */\n"+
			"define( 'WP_ALLOW_MULTISITE', true );\n"+
			"define( 'MULTISITE', true );\n"+
			"define( 'SUBDOMAIN_INSTALL', false );\n"+
			"define( 'DOMAIN_CURRENT_SITE', 'blog.example.com' );\n"+
			"define( 'PATH_CURRENT_SITE', '/' );\n"+
			"define( 'SITE_ID_CURRENT_SITE', 1 );\n"+
			"define( 'BLOG_ID_CURRENT_SITE', 1 );\n\n",
		"define( 'WP_MEMORY_LIMIT', '256M' );\n")
	for _, not := range []string{"WP_HOME", "WP_SITEURL", "COOKIE_DOMAIN", "'MULTISITE', false"} {
		if strings.Contains(cfg, not) {
			t.Errorf("netdir wp-config.php has %s:\n%s", not, cfg)
		}
	}

	sub := read(t, filepath.Join(root, "etc/apache2/sites-available/netsub.conf"))
	mustContain(t, "netsub vhost", sub,
		"  ServerName www.example.org\n  ServerAlias *.example.org\n  DocumentRoot /srv/www/netsub/current\n",
		"    # WordPress Multisite, subdomain network: the rules of\n"+
			"    # https://wordpress.org/documentation/article/htaccess/#multisite\n"+subdomainRules,
		`  SetEnv WP_ENV "netsub"`+"\n")
	cfg = read(t, filepath.Join(root, "srv/www/netsub/shared/config/wp-config.php"))
	mustContain(t, "netsub wp-config.php", cfg,
		"define( 'DB_NAME', 'netsub' );\n", "$table_prefix = 'sub_';\n",
		"define( 'WP_ALLOW_MULTISITE', true );\n"+
			"define( 'MULTISITE', true );\n"+
			"define( 'SUBDOMAIN_INSTALL', true );\n"+
			"define( 'DOMAIN_CURRENT_SITE', 'example.org' );\n"+
			"define( 'PATH_CURRENT_SITE', '/' );\n"+
			"define( 'SITE_ID_CURRENT_SITE', 1 );\n"+
			"define( 'BLOG_ID_CURRENT_SITE', 1 );\n"+
			"define( 'COOKIE_DOMAIN', '.example.org' );\n")
	if strings.Contains(cfg, "pw-netdir") || strings.Contains(cfg, "WP_HOME") {
		t.Errorf("netsub wp-config.php has another app's password or WP_HOME:\n%s", cfg)
	}

	api := read(t, filepath.Join(root, "etc/apache2/sites-available/api.conf"))
	mustContain(t, "api vhost", api, "  ServerName api.example.net\n  DocumentRoot /srv/www/api/current/public\n",
		"    Require all granted\n  </Directory>\n", `  SetEnv APP_ENV "api"`+"\n")
	for _, not := range []string{"Rewrite", "ServerAlias", "WP_ENV"} {
		if strings.Contains(api, not) {
			t.Errorf("api vhost has %s:\n%s", not, api)
		}
	}
	for _, app := range []string{"netdir", "netsub", "api"} {
		if l, err := os.Readlink(filepath.Join(root, "etc/apache2/sites-enabled", app+".conf")); err != nil || l != "../sites-available/"+app+".conf" {
			t.Errorf("%s: site not enabled: %q %v", app, l, err)
		}
	}
}

// TestMultisiteCookieAndDomain: cookie_domain given (a string, or false
// for host-only cookies), domain_current_site and path_current_site
// given, site and blog ids other than 1.
func TestMultisiteCookieAndDomain(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	stack := multisiteStack(t, root)
	apps := stack["deploy"].(map[string]any)
	apps["netdir"].(map[string]any)["wordpress"] = map[string]any{"multisite": map[string]any{
		"enabled": true, "domain_current_site": "network.example.com", "path_current_site": "/",
		"site_id": 2, "blog_id": 3, "cookie_domain": "network.example.com"}}
	apps["netsub"].(map[string]any)["wordpress"] = map[string]any{"multisite": map[string]any{
		"enabled": true, "type": "subdomain", "cookie_domain": false}}
	node := platformNode(t, "debian", "debian", "12", stack, hostIdentity(t), initScripts(t))
	converge(t, root, node, &fakeRunner{}, "wordpress::configure")
	mustContain(t, "netdir wp-config.php", read(t, filepath.Join(root, "srv/www/netdir/shared/config/wp-config.php")),
		"define( 'DOMAIN_CURRENT_SITE', 'network.example.com' );\n", "define( 'SITE_ID_CURRENT_SITE', 2 );\n",
		"define( 'BLOG_ID_CURRENT_SITE', 3 );\n", "define( 'COOKIE_DOMAIN', 'network.example.com' );\n")
	mustContain(t, "netsub wp-config.php", read(t, filepath.Join(root, "srv/www/netsub/shared/config/wp-config.php")),
		"define( 'COOKIE_DOMAIN', false );\n")
	// configure renders only the WordPress apps: the PHP app has no vhost.
	if _, err := os.Stat(filepath.Join(root, "etc/apache2/sites-available/api.conf")); err == nil {
		t.Errorf("configure rendered the PHP app's vhost")
	}
}

// TestMultisiteConvert: a single site becomes a network by an attribute
// change and a configure: wp-config.php gains the defines (and loses
// WP_HOME/WP_SITEURL), the vhost the rules; the other apps' files do
// not change.
func TestMultisiteConvert(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	stack := multisiteStack(t, root)
	netdir := stack["deploy"].(map[string]any)["netdir"].(map[string]any)
	netdir["wordpress"] = map[string]any{"defines": map[string]any{"WP_ALLOW_MULTISITE": true}}
	id, scripts := hostIdentity(t), initScripts(t)
	converge(t, root, platformNode(t, "debian", "debian", "12", stack, id, scripts), &fakeRunner{}, "wordpress::deploy", "deploy::php")
	cfgPath := filepath.Join(root, "srv/www/netdir/shared/config/wp-config.php")
	cfg := read(t, cfgPath)
	mustContain(t, "single-site wp-config.php", cfg, "define( 'WP_HOME', 'http://blog.example.com' );\n",
		"define( 'WP_ALLOW_MULTISITE', true );\n")
	if strings.Contains(cfg, "'MULTISITE'") || strings.Contains(read(t, filepath.Join(root, "etc/apache2/sites-available/netdir.conf")), "Rewrite") {
		t.Errorf("a single site has network settings")
	}
	others := map[string]string{}
	for _, p := range []string{"srv/www/netsub", "srv/www/api", "etc/apache2/sites-available/netsub.conf", "etc/apache2/sites-available/api.conf"} {
		others[p] = recipestest.TreeHash(t, filepath.Join(root, p))
	}

	netdir["wordpress"] = map[string]any{"multisite": map[string]any{"enabled": true}}
	converge(t, root, platformNode(t, "debian", "debian", "12", stack, id, scripts), &fakeRunner{}, "wordpress::configure")
	cfg = read(t, cfgPath)
	mustContain(t, "network wp-config.php", cfg, "define( 'MULTISITE', true );\n", "define( 'SUBDOMAIN_INSTALL', false );\n")
	if strings.Contains(cfg, "WP_HOME") {
		t.Errorf("a network's wp-config.php defines WP_HOME:\n%s", cfg)
	}
	mustContain(t, "network vhost", read(t, filepath.Join(root, "etc/apache2/sites-available/netdir.conf")), subdirectoryRules)
	for p, h := range others {
		if got := recipestest.TreeHash(t, filepath.Join(root, p)); got != h {
			t.Errorf("configuring netdir changed %s", p)
		}
	}
}

// TestAppsIsolated: deploying, rolling back and undeploying one app (the
// event names it) leaves the other apps' trees and vhosts byte for byte.
func TestAppsIsolated(t *testing.T) {
	t.Parallel()
	if _, real := registry(); !real {
		t.Skip("the deploy resource is not registered")
	}
	root := t.TempDir()
	stack := multisiteStack(t, root)
	id, scripts := hostIdentity(t), initScripts(t)
	run := func(app, command string) {
		t.Helper()
		stack["stackagent"] = map[string]any{"event": map[string]any{"type": "deploy", "app": app, "command": command}}
		converge(t, root, platformNode(t, "debian", "debian", "12", stack, id, scripts), &fakeRunner{}, "wordpress::deploy", "deploy::php")
	}
	run("", "deploy")
	snapshot := func(apps ...string) map[string]string {
		m := map[string]string{}
		for _, a := range apps {
			for _, p := range []string{"srv/www/" + a, "etc/apache2/sites-available/" + a + ".conf", "etc/apache2/sites-enabled/" + a + ".conf"} {
				m[p] = recipestest.TreeHash(t, filepath.Join(root, p))
			}
		}
		return m
	}
	same := func(what string, before, after map[string]string) {
		t.Helper()
		for p, h := range before {
			if after[p] != h {
				t.Errorf("%s changed %s", what, p)
			}
		}
	}
	for _, tc := range []struct{ app, other string }{{"api", "netdir"}, {"netdir", "api"}} {
		before := snapshot(tc.other, "netsub")
		os.WriteFile(filepath.Join(root, "src", tc.app, "index.php"), []byte("<?php echo '"+tc.app+" r2';\n"), 0o644)
		run(tc.app, "deploy")
		if rels, _ := filepath.Glob(filepath.Join(root, "srv/www", tc.app, "releases/*")); len(rels) != 2 {
			t.Errorf("%s: %d releases after its second deploy, want 2", tc.app, len(rels))
		}
		same("deploying "+tc.app, before, snapshot(tc.other, "netsub"))
		run(tc.app, "rollback")
		if got := read(t, filepath.Join(root, "srv/www", tc.app, "current/index.php")); strings.Contains(got, "r2") {
			t.Errorf("%s: rollback left %q current", tc.app, got)
		}
		same("rolling back "+tc.app, before, snapshot(tc.other, "netsub"))
	}
	before := snapshot("netdir", "netsub")
	run("api", "undeploy")
	for _, p := range []string{"srv/www/api/current", "srv/www/api/releases", "etc/apache2/sites-available/api.conf", "etc/apache2/sites-enabled/api.conf"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("undeploy api left %s", p)
		}
	}
	same("undeploying api", before, snapshot("netdir", "netsub"))
}

// TestAppsRefused: an unknown network type, two apps answering for one
// name, and an app's name under another's subdomain network are
// compile errors, not vhosts that steal each other's requests.
func TestAppsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		change     func(apps map[string]any)
	}{
		{"bad type", "multisite.type is bogus", func(apps map[string]any) {
			apps["netdir"].(map[string]any)["wordpress"] = map[string]any{"multisite": map[string]any{"enabled": true, "type": "bogus"}}
		}},
		{"same domain", "both answer for blog.example.com", func(apps map[string]any) {
			apps["api"].(map[string]any)["domains"] = []any{"blog.example.com"}
		}},
		{"under a subdomain network", "both answer for shop.example.org", func(apps map[string]any) {
			apps["api"].(map[string]any)["domains"] = []any{"shop.example.org"}
		}},
		{"bad path", "must begin and end with /", func(apps map[string]any) {
			apps["netdir"].(map[string]any)["wordpress"] = map[string]any{"multisite": map[string]any{"enabled": true, "path_current_site": "blog"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stack := multisiteStack(t, t.TempDir())
			tc.change(stack["deploy"].(map[string]any))
			reg, _ := registry()
			items, _ := recipes.ParseRunList("wordpress::deploy", "deploy::php")
			_, err := recipes.Compile(context.Background(), recipes.Options{Registry: reg, Cookbooks: embedded(t),
				Node: platformNode(t, "debian", "debian", "12", stack), RunList: items, WhyRun: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("compile: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
