package cookbooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stackagent/stackagent/cookbooks"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/resources"

	"github.com/stackagent/stackagent/testenv"
)

// The secrets of the stack JSON below, as the fake resolver returns them.
const (
	dbPassword = "db-s3cr3t-Pa55"
	apiToken   = "tok-s3cr3t-9f8e"
)

// fakeSecrets stands in for internal/secrets (SSM, Secrets Manager): the
// engine's recipes.SecretResolver interface is all the cookbooks see.
type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(_ context.Context, ref string) (string, error) {
	if v, ok := f[ref]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no such secret")
}

var secrets = fakeSecrets{
	"secretsmanager:prod/wp#password": dbPassword,
	"ssm:/prod/wp/api_token":          apiToken,
}

// stackJSON is an OpsWorks-like stack configuration and deployment JSON:
// a WordPress app (the database password and an environment variable are
// secret references), a plain PHP app, EFS.
func stackJSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	err := json.Unmarshal([]byte(`{
  "deploy": {
    "wordpress": {
      "application_type": "wordpress",
      "scm": {"scm_type": "git", "repository": "https://github.com/WordPress/WordPress.git", "revision": "6.7.1"},
      "deploy_to": "/srv/www/wordpress",
      "keep_releases": 3,
      "domains": ["www.example.com", "example.com", "blog.example.com"],
      "environment": {"WP_ENV": "production", "API_TOKEN": {"secret": "ssm:/prod/wp/api_token"}, "QUOTED": "say \"hi\""},
      "database": {"host": "wp.cluster-abc.eu-west-1.rds.amazonaws.com", "database": "wordpress", "username": "wp",
                   "password": {"secret": "secretsmanager:prod/wp#password"}, "port": 3306},
      "wordpress": {"table_prefix": "wp_", "scheme": "https",
                    "defines": {"WP_MEMORY_LIMIT": "256M", "DISABLE_WP_CRON": true, "WP_POST_REVISIONS": 5}}
    },
    "api": {
      "application_type": "php",
      "scm": {"scm_type": "archive", "repository": "https://artifacts.example.com/api-1.4.2.tar.gz"},
      "document_root": "public",
      "domains": ["api.example.com"],
      "symlinks": {"config/.env": ".env"},
      "create_dirs_before_symlink": ["storage"]
    }
  },
  "efs": {"file_system_id": "fs-12345678", "region": "eu-west-1"},
  "stackagent": {"event": {"type": "deploy", "app": "", "command": "deploy", "id": "e-1"}}
}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// registry has the built-in kinds. Until the deploy resource is
// registered there, a stand-in with its agreed interface lets the recipes
// compile; converge tests that need real releases skip.
func registry() (reg *recipes.Registry, realDeploy bool) {
	reg = recipes.NewRegistry()
	resources.Register(reg)
	if _, ok := reg.Lookup("deploy"); ok {
		return reg, true
	}
	reg.Register(&recipes.Kind{
		Name: "deploy", Actions: []string{"deploy", "force_deploy", "rollback", "undeploy"}, DefaultAction: "deploy",
		Props: []recipes.Prop{
			{Name: "app", Type: recipes.String, NameProperty: true}, {Name: "deploy_to", Type: recipes.String},
			{Name: "source_type", Type: recipes.String}, {Name: "repository", Type: recipes.String},
			{Name: "revision", Type: recipes.String}, {Name: "ssh_key", Type: recipes.String},
			{Name: "checksum", Type: recipes.String}, {Name: "keep_releases", Type: recipes.Int},
			{Name: "shared_dirs", Type: recipes.StringList}, {Name: "symlinks", Type: recipes.Map},
			{Name: "purge_before_symlink", Type: recipes.StringList}, {Name: "create_dirs_before_symlink", Type: recipes.StringList},
			{Name: "owner", Type: recipes.String}, {Name: "group", Type: recipes.String},
			{Name: "environment", Type: recipes.Map}, {Name: "rollback_to", Type: recipes.String},
		},
		Provider: recipes.ProviderFunc(func(context.Context, *recipes.RunContext, *recipes.Resource, string) ([]recipes.Step, error) {
			return nil, nil
		}),
	})
	return reg, false
}

func embedded(t *testing.T) *recipes.CookbookSet {
	t.Helper()
	set, errs := recipes.LoadCookbooks(recipes.CookbookSource{FS: cookbooks.FS, Origin: "embedded"})
	if len(errs) > 0 {
		t.Fatalf("load embedded cookbooks: %v", errs)
	}
	return set
}

// platformNode is a node of the given platform with the stack JSON at
// normal level.
func platformNode(t *testing.T, platform, family, version string, normal ...map[string]any) *recipes.Node {
	n := recipes.NewNode("web1")
	n.Merge(recipes.Automatic, map[string]any{
		"platform": platform, "platform_family": family, "platform_version": version,
		"hostname": "web1", "fqdn": "web1.example.com",
		"ec2": map[string]any{"region": "us-east-1", "instance_id": "i-0abc"},
	})
	for _, m := range normal {
		n.Merge(recipes.Normal, m)
	}
	return n
}

// TestValidateEmbedded compiles every recipe and template of every
// embedded cookbook, as `stackagent validate -j stack.json` does, on
// Debian 12 and Amazon Linux 2023, with and without the stack JSON.
func TestValidateEmbedded(t *testing.T) {
	t.Parallel()
	set := embedded(t)
	var names []string
	for _, cb := range set.All() {
		names = append(names, cb.Name)
	}
	for _, want := range []string{"apache2", "php", "efs", "wordpress", "deploy", "stackagent"} {
		if _, ok := set.Get(want); !ok {
			t.Fatalf("embedded cookbook %s missing (have %v)", want, names)
		}
	}
	platforms := [][3]string{{"debian", "debian", "12"}, {"ubuntu", "debian", "24.04"}, {"amazon", "amazon", "2023"}}
	for _, p := range platforms {
		for _, withJSON := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-%s-json=%v", p[0], p[2], withJSON), func(t *testing.T) {
				t.Parallel()
				reg, _ := registry()
				var normal []map[string]any
				if withJSON {
					normal = append(normal, stackJSON(t))
				}
				node := platformNode(t, p[0], p[1], p[2], normal...)
				sum, errs := recipes.Validate(context.Background(), recipes.Options{Registry: reg, Cookbooks: set, Node: node,
					WhyRun: true, Secrets: secrets}, names)
				for _, err := range errs {
					t.Error(err)
				}
				if sum.Templates < 5 || sum.Recipes < 15 {
					t.Errorf("checked only %+v", sum)
				}
			})
		}
	}
}

// TestCompileNeedsNoSecret: compiling the WordPress run lists never
// resolves a secret (validate has no resolver; secrets are read at
// converge time through lazy values).
func TestCompileNeedsNoSecret(t *testing.T) {
	t.Parallel()
	set := embedded(t)
	reg, _ := registry()
	for _, rl := range []string{"wordpress::setup", "wordpress::configure", "wordpress::deploy", "wordpress::undeploy", "deploy::php"} {
		items, _ := recipes.ParseRunList("apache2", "php", rl)
		res, err := recipes.Compile(context.Background(), recipes.Options{Registry: reg, Cookbooks: set,
			Node: platformNode(t, "debian", "debian", "12", stackJSON(t)), RunList: items, WhyRun: true})
		if err != nil {
			t.Errorf("%s: %v", rl, err)
		}
		if len(res) == 0 {
			t.Errorf("%s: no resources", rl)
		}
	}
}

// fakeRunner records commands and succeeds, so a converge under a
// temporary root touches no package, service or mount of the host:
// dpkg-query says every package is installed, init scripts say the
// service runs, mountpoint says nothing is mounted. shell_out's reads of
// /dev/urandom (the salts) run for real.
type fakeRunner struct {
	mu   sync.Mutex
	cmds []string
}

func (f *fakeRunner) Run(ctx context.Context, c recipes.Command) (recipes.Result, error) {
	s := c.String()
	f.mu.Lock()
	f.cmds = append(f.cmds, s)
	f.mu.Unlock()
	switch {
	case strings.Contains(s, "/dev/urandom"):
		return recipes.ExecRunner{}.Run(ctx, c)
	case c.Path == "rpm":
		return recipes.Result{Stdout: []byte("1.0-1\n")}, nil
	case c.Path == "dpkg-query":
		var out strings.Builder
		for _, a := range c.Args {
			if !strings.HasPrefix(a, "-") {
				fmt.Fprintf(&out, "%s\tinstall ok installed\t1.0-1\n", a)
			}
		}
		return recipes.Result{Stdout: []byte(out.String())}, nil
	case strings.Contains(s, "mountpoint"):
		return recipes.Result{ExitCode: 1}, nil
	}
	return recipes.Result{}, nil
}

func (f *fakeRunner) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

type converged struct {
	report *recipes.Report
	json   string
	output string
}

func converge(t *testing.T, root string, node *recipes.Node, runner recipes.Runner, runList ...string) converged {
	t.Helper()
	reg, _ := registry()
	items, err := recipes.ParseRunList(runList...)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := recipes.Run(context.Background(), recipes.Options{Registry: reg, Cookbooks: embedded(t), Node: node,
		RunList: items, Root: root, Runner: runner, Events: recipes.NewDocFormatter(&out), Secrets: secrets})
	if err != nil {
		t.Fatalf("converge %v: %v\n%s", runList, err, out.String())
	}
	b, _ := json.Marshal(rep)
	return converged{report: rep, json: string(b), output: out.String()}
}

// hostIdentity makes the files' owners the test's user and group, so the
// converge runs unprivileged.
func hostIdentity(t *testing.T) map[string]any {
	t.Helper()
	u, err := user.Current()
	testenv.Require(t, fmt.Sprintf("the current user (%v)", err), err == nil)
	g, err := user.LookupGroupId(u.Gid)
	testenv.Require(t, fmt.Sprintf("the current user's group (%v)", err), err == nil)
	return map[string]any{
		"apache":          map[string]any{"user": u.Username, "group": g.Name, "config_owner": u.Username, "config_group": g.Name},
		"wordpress":       map[string]any{"config_owner": u.Username},
		"deploy_defaults": map[string]any{"user": u.Username, "manage_user": false},
	}
}

// initScripts returns attributes pointing the apache2 and php-fpm
// services at stand-in init scripts (the service resource looks for them
// on the host, not under the root; the fake runner answers their
// commands).
func initScripts(t *testing.T) map[string]any {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"apache2", "php-fpm"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]any{"apache": map[string]any{"init_command": filepath.Join(dir, "apache2")},
		"php": map[string]any{"fpm_init_command": filepath.Join(dir, "php-fpm")}}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// TestWordPressDeploy converges wordpress::deploy for real under a
// temporary root (commands faked): the vhost and wp-config.php carry the
// stack JSON's values, the secrets are in the files but in no output or
// report, the salts are made once, the release links its shared dirs to
// EFS, and a second run changes nothing but the faked mount.
func TestWordPressDeploy(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	src := filepath.Join(root, "src", "wordpress")
	for f, body := range map[string]string{"index.php": "<?php require 'wp-blog-header.php';\n", "wp-settings.php": "<?php\n",
		"wp-content/themes/.keep": ""} {
		os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755)
		os.WriteFile(filepath.Join(src, f), []byte(body), 0o644)
	}
	// Apache is installed (setup ran): its config directories exist.
	for _, d := range []string{"etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	stack := stackJSON(t)
	wp := stack["deploy"].(map[string]any)["wordpress"].(map[string]any)
	wp["scm"] = map[string]any{"scm_type": "local", "repository": "/src/wordpress"} // under the root
	delete(stack["deploy"].(map[string]any), "api")
	stack["efs"] = map[string]any{"device_override": "/srv/fake-efs", "fstype_override": "none", "options_override": []any{"bind"}}
	id := hostIdentity(t)
	node := func() *recipes.Node { return platformNode(t, "debian", "debian", "12", stack, id, initScripts(t)) }
	run := &fakeRunner{}
	first := converge(t, root, node(), run, "wordpress::deploy")

	vhost := read(t, filepath.Join(root, "etc/apache2/sites-available/wordpress.conf"))
	mustContain(t, "vhost", vhost,
		"<VirtualHost *:80>\n",
		"  ServerName www.example.com\n",
		"  ServerAlias example.com\n  ServerAlias blog.example.com\n",
		"  DocumentRoot /srv/www/wordpress/current\n",
		"  <Directory /srv/www/wordpress/current>\n",
		"    AllowOverride All\n",
		`  SetEnv API_TOKEN "`+apiToken+`"`+"\n",
		`  SetEnv QUOTED "say \"hi\""`+"\n",
		`  SetEnv WP_ENV "production"`+"\n",
		"  ErrorLog /var/log/apache2/wordpress-error.log\n")
	if l, err := os.Readlink(filepath.Join(root, "etc/apache2/sites-enabled/wordpress.conf")); err != nil || l != "../sites-available/wordpress.conf" {
		t.Errorf("site not enabled: %q %v", l, err)
	}

	shared := filepath.Join(root, "mnt/efs/wordpress/shared")
	cfg := read(t, filepath.Join(shared, "config/wp-config.php"))
	mustContain(t, "wp-config.php", cfg,
		"define( 'DB_NAME', 'wordpress' );\n",
		"define( 'DB_USER', 'wp' );\n",
		"define( 'DB_PASSWORD', '"+dbPassword+"' );\n",
		"define( 'DB_HOST', 'wp.cluster-abc.eu-west-1.rds.amazonaws.com' );\n",
		"define( 'DB_CHARSET', 'utf8mb4' );\n",
		"require __DIR__ . '/salts.php';\n",
		"$table_prefix = 'wp_';\n",
		"define( 'WP_HOME', 'https://www.example.com' );\n",
		"define( 'WP_SITEURL', 'https://www.example.com' );\n",
		"define( 'DISABLE_WP_CRON', true );\n",
		"define( 'DISALLOW_FILE_EDIT', true );\n",
		"define( 'WP_MEMORY_LIMIT', '256M' );\n",
		"define( 'WP_POST_REVISIONS', 5 );\n",
		"define( 'ABSPATH', '/srv/www/wordpress/current/' );\n",
		"require_once ABSPATH . 'wp-settings.php';\n")
	for _, f := range []string{"config/wp-config.php", "config/salts.php"} {
		if fi, err := os.Stat(filepath.Join(shared, f)); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, %v; want 0640", f, fi.Mode(), err)
		}
	}
	salts := read(t, filepath.Join(shared, "config/salts.php"))
	if n := len(regexp.MustCompile(`(?m)^define\( '[A-Z_]+', '[A-Za-z0-9+/]{64}' \);$`).FindAllString(salts, -1)); n != 8 {
		t.Errorf("salts.php has %d keys, want 8:\n%s", n, salts)
	}

	for _, secret := range []string{dbPassword, apiToken} {
		if strings.Contains(first.output, secret) || strings.Contains(first.json, secret) {
			t.Errorf("secret %q leaked into the output or report:\n%s", secret, first.output)
		}
	}
	for _, s := range strings.Split(salts, "'") {
		if len(s) == 64 && (strings.Contains(first.output, s) || strings.Contains(first.json, s)) {
			t.Errorf("a salt leaked into the output or report")
		}
	}
	fstab := read(t, filepath.Join(root, "etc/fstab"))
	if fstab != "/srv/fake-efs /mnt/efs none bind 0 0\n" {
		t.Errorf("fstab %q", fstab)
	}
	if !containsPrefix(run.commands(), "mount -t none -o bind "+filepath.Join(root, "srv/fake-efs")+" "+filepath.Join(root, "mnt/efs")) {
		t.Errorf("no bind mount among %q", run.commands())
	}
	if l, err := os.Readlink(filepath.Join(root, "srv/www/wordpress/shared")); err != nil || l != "../../../mnt/efs/wordpress/shared" {
		t.Errorf("shared is not a link to EFS: %q %v", l, err)
	}

	if _, real := registry(); real {
		cur := filepath.Join(root, "srv/www/wordpress/current")
		mustContain(t, "release", read(t, filepath.Join(cur, "index.php")), "wp-blog-header.php")
		if got := read(t, filepath.Join(cur, "wp-config.php")); got != cfg {
			t.Errorf("the release's wp-config.php is not the shared one")
		}
		up, err := filepath.EvalSymlinks(filepath.Join(cur, "wp-content/uploads"))
		if want, _ := filepath.EvalSymlinks(filepath.Join(shared, "wp-content/uploads")); err != nil || up != want {
			t.Errorf("uploads resolve to %q (%v), want %q", up, err, want)
		}
	}

	second := converge(t, root, node(), run, "wordpress::deploy")
	if got := read(t, filepath.Join(shared, "config/salts.php")); got != salts {
		t.Errorf("the salts changed on the second run")
	}
	for _, r := range second.report.Resources {
		if r.Status == "updated" && r.ID != "mount[/mnt/efs]" {
			t.Errorf("second run updated %s: %v", r.ID, r.Changes)
		}
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestEFSMount: the fstab line and mount command of efs::default, with
// AWS's recommended NFS options, and with amazon-efs-utils (TLS).
func TestEFSMount(t *testing.T) {
	t.Parallel()
	const line = "fs-12345678.efs.us-east-1.amazonaws.com:/ /mnt/efs nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev 0 0\n"
	for _, tc := range []struct {
		name      string
		efs       map[string]any
		efsUtils  bool
		fstab     string
		mountArgs string
	}{
		{"region given", map[string]any{"file_system_id": "fs-12345678", "region": "us-east-1"}, false, line,
			"-t nfs4 -o nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev fs-12345678.efs.us-east-1.amazonaws.com:/"},
		{"region of the instance", map[string]any{"file_system_id": "fs-12345678"}, false, line,
			"-t nfs4 -o nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev fs-12345678.efs.us-east-1.amazonaws.com:/"},
		{"amazon-efs-utils", map[string]any{"file_system_id": "fs-12345678"}, true, "fs-12345678:/ /mnt/efs efs _netdev,tls 0 0\n",
			"-t efs -o _netdev,tls fs-12345678:/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			os.WriteFile(filepath.Join(root, "etc/fstab"), []byte("UUID=abc / ext4 defaults 0 1\n"), 0o644)
			if tc.efsUtils {
				os.MkdirAll(filepath.Join(root, "sbin"), 0o755)
				os.WriteFile(filepath.Join(root, "sbin/mount.efs"), []byte("#!/bin/sh\n"), 0o755)
			}
			run := &fakeRunner{}
			node := platformNode(t, "amazon", "amazon", "2023", map[string]any{"efs": tc.efs})
			first := converge(t, root, node, run, "efs")
			if got := read(t, filepath.Join(root, "etc/fstab")); got != "UUID=abc / ext4 defaults 0 1\n"+tc.fstab {
				t.Errorf("fstab:\n%s\nwant the line\n%s", got, tc.fstab)
			}
			want := "mount " + tc.mountArgs + " " + filepath.Join(root, "mnt/efs")
			if !containsPrefix(run.commands(), want) {
				t.Errorf("no %q among %q", want, run.commands())
			}
			if !strings.Contains(first.output, "mount[/mnt/efs] action mount") {
				t.Errorf("output:\n%s", first.output)
			}
			if !tc.efsUtils && !containsPrefix(run.commands(), "dnf") && !containsPrefix(run.commands(), "rpm") {
				t.Errorf("no package commands among %q", run.commands())
			}
			// Idempotent: the fstab line is not rewritten.
			second := converge(t, root, platformNode(t, "amazon", "amazon", "2023", map[string]any{"efs": tc.efs}), run, "efs")
			for _, r := range second.report.Resources {
				if r.Status == "updated" && r.Action == "enable" {
					t.Errorf("second run rewrote fstab: %v", r.Changes)
				}
			}
		})
	}
	// Without a file system id there is nothing to mount.
	root := t.TempDir()
	res := converge(t, root, platformNode(t, "debian", "debian", "12"), &fakeRunner{}, "efs")
	if res.report.UpdatedResources != 0 {
		t.Errorf("efs without file_system_id updated %d resources", res.report.UpdatedResources)
	}
}

// TestPHPIni: the php.ini fragment from node.php.ini, for php-fpm (the
// default) and mod_php on Debian and php-fpm on Amazon Linux.
func TestPHPIni(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform, family, version, path string
		extra                           map[string]any
	}{
		{"debian", "debian", "12", "etc/php/8.2/fpm/conf.d/99-stackagent.ini", nil},
		{"debian", "debian", "12", "etc/php/8.2/apache2/conf.d/99-stackagent.ini", map[string]any{"handler": "mod_php"}},
		{"amazon", "amazon", "2023", "etc/php.d/99-stackagent.ini", nil},
	} {
		root := t.TempDir()
		php := map[string]any{"ini": map[string]any{"memory_limit": "512M", "display_errors": false, "short_open_tag": true}}
		for k, v := range tc.extra {
			php[k] = v
		}
		run := &fakeRunner{}
		converge(t, root, platformNode(t, tc.platform, tc.family, tc.version, hostIdentity(t), initScripts(t), map[string]any{"php": php}), run, "php")
		ini := read(t, filepath.Join(root, tc.path))
		mustContain(t, tc.path, ini, "memory_limit = 512M\n", "upload_max_filesize = 64M\n", "date.timezone = UTC\n",
			"short_open_tag = On\n", "expose_php = Off\n", "opcache.revalidate_path = 1\n")
		if strings.Contains(ini, "display_errors") {
			t.Errorf("%s: a false setting is written:\n%s", tc.path, ini)
		}
	}
}
