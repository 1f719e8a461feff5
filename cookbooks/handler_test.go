package cookbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
)

// TestPHPHandlerSwitch: on a Debian host set up with mod_php (prefork),
// php::default with the default handler (fpm) disables mod_php and
// prefork, enables the event MPM, proxy_fcgi, setenvif and php-fpm's
// conf, checks php-fpm through its init script (and starts it unless
// it runs), gives requests in flight 10 s on a php-fpm reload and
// restarts Apache once.
func TestPHPHandlerSwitch(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, f := range []string{"etc/apache2/mods-enabled/php8.2.load", "etc/apache2/mods-enabled/mpm_prefork.load"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755)
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	os.MkdirAll(filepath.Join(root, "etc/apache2/conf-enabled"), 0o755)
	init := initScripts(t)
	fpmInit := init["php"].(map[string]any)["fpm_init_command"].(string)
	run := &fakeRunner{}
	res := converge(t, root, platformNode(t, "debian", "debian", "12", init), run, "php")
	cmds := strings.Join(run.commands(), "\n")
	for _, want := range []string{"a2dismod -q -f php8.2", "a2dismod -q -f mpm_prefork", "a2enmod -q mpm_event",
		"a2enmod -q proxy_fcgi", "a2enmod -q setenvif", "a2enconf -q php8.2-fpm", fpmInit + " status"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("no %q among the commands:\n%s", want, cmds)
		}
	}
	for _, no := range []string{"a2enmod -q php8.2", "a2enmod -q mpm_prefork", "libapache2-mod-php"} {
		if strings.Contains(cmds, no) {
			t.Errorf("%q among the commands:\n%s", no, cmds)
		}
	}
	if n := strings.Count(res.output, "service[apache2] action restart"); n != 1 {
		t.Errorf("Apache restarted %d times, want once:\n%s", n, res.output)
	}
	if got := read(t, filepath.Join(root, "etc/php/8.2/fpm/pool.d/zz-stackagent-global.conf")); !strings.Contains(got, "[global]\nprocess_control_timeout = 10s\n") {
		t.Errorf("php-fpm's global conf lets no request finish on a reload:\n%s", got)
	}
	if !strings.Contains(cmds, "php8.2-fpm") {
		t.Errorf("php8.2-fpm is not installed:\n%s", cmds)
	}
}

// TestReleaseSwitchReloads: a deploy that only switches current (the
// vhost unchanged) reloads nothing under php-fpm, the default, and
// reloads Apache (graceful) under mod_php.
func TestReleaseSwitchReloads(t *testing.T) {
	t.Parallel()
	if _, real := registry(); !real {
		t.Skip("the deploy resource is not registered")
	}
	for _, handler := range []string{"fpm", "mod_php"} {
		t.Run(handler, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			src := filepath.Join(root, "src", "app")
			os.MkdirAll(src, 0o755)
			os.WriteFile(filepath.Join(src, "index.php"), []byte("<?php echo 1;\n"), 0o644)
			for _, d := range []string{"etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			stack := map[string]any{
				"deploy": map[string]any{"app": map[string]any{"application_type": "php", "domains": []any{"app.example.com"},
					"scm": map[string]any{"scm_type": "other", "repository": "/src/app"}}},
				"php":        map[string]any{"handler": handler},
				"stackagent": map[string]any{"event": map[string]any{"type": "deploy", "app": "app", "command": "force_deploy", "id": "e-1"}},
			}
			node := func() *recipes.Node {
				return platformNode(t, "debian", "debian", "12", stack, hostIdentity(t), initScripts(t))
			}
			first := converge(t, root, node(), &fakeRunner{}, "deploy::php")
			if !strings.Contains(first.output, "service[apache2] action reload") {
				t.Errorf("the first deploy (a new vhost) did not reload Apache:\n%s", first.output)
			}
			second := converge(t, root, node(), &fakeRunner{}, "deploy::php")
			releases, _ := os.ReadDir(filepath.Join(root, "srv/www/app/releases"))
			if len(releases) != 2 {
				t.Fatalf("after two deploys: %d releases, want 2", len(releases))
			}
			reloaded := strings.Contains(second.output, "service[apache2] action reload")
			if reloaded != (handler == "mod_php") {
				t.Errorf("%s: second deploy reloaded Apache: %v\n%s", handler, reloaded, second.output)
			}
			if strings.Contains(second.output, "service[php-fpm]") {
				t.Errorf("%s: second deploy acted on php-fpm:\n%s", handler, second.output)
			}
		})
	}
}

// TestApacheKeepAlive: Apache keeps an idle connection longer than an
// ALB's 60 s idle timeout, so the load balancer closes it first.
func TestApacheKeepAlive(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"var/log", "etc/apache2/conf-available", "etc/apache2/conf-enabled", "etc/apache2/sites-available", "etc/apache2/sites-enabled"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	converge(t, root, platformNode(t, "debian", "debian", "12", initScripts(t)), &fakeRunner{}, "apache2")
	conf := read(t, filepath.Join(root, "etc/apache2/conf-available/stackagent.conf"))
	mustContain(t, "stackagent.conf", conf, "KeepAlive On\n", "KeepAliveTimeout 65\n")
}
