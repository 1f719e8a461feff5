package cookbooks_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
)

// TestHostileAttributesRefused reproduces the audit's injections through
// the stack JSON: each value would have become shell, Apache config or
// PHP code. Each run (a real converge, commands faked) must fail at
// compile time with an error naming the attribute, run no command and
// write nothing under the root.
func TestHostileAttributesRefused(t *testing.T) {
	t.Parallel()
	wp := func(s map[string]any) map[string]any {
		return s["deploy"].(map[string]any)["wordpress"].(map[string]any)
	}
	for _, tc := range []struct {
		name, platform string
		runList        []string
		change         func(s map[string]any)
		want           string
	}{
		{"vhost injection through a domain", "debian", []string{"wordpress::deploy"}, func(s map[string]any) {
			wp(s)["domains"] = []any{"www.example.com", "example.com\nAlias /leak /etc"}
		}, `node.deploy.wordpress.domains[2]: invalid domain name "example.com\nAlias /leak /etc"`},
		{"wildcard as ServerName", "debian", []string{"wordpress::configure"}, func(s map[string]any) {
			wp(s)["domains"] = []any{"*.example.com"}
		}, `node.deploy.wordpress.domains[1]: invalid domain name "*.example.com"`},
		{"PHP code through a define name", "debian", []string{"wordpress::configure"}, func(s map[string]any) {
			wp(s)["wordpress"].(map[string]any)["defines"] = map[string]any{"X', system('id')); //": 1}
		}, `node.deploy.wordpress.wordpress.defines: invalid identifier "X', system('id')); //"`},
		{"shell through an Apache module", "debian", []string{"apache2"}, func(s map[string]any) {
			s["apache"] = map[string]any{"modules": []any{"rewrite", "ssl; touch /x"}}
		}, `node.apache.modules[2]: invalid module name "ssl; touch /x"`},
		{"path through the fpm conf", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"handler": "fpm", "apache_fpm_conf": "../../../etc/shadow"}
		}, `node.php.apache_fpm_conf: invalid module name "../../../etc/shadow"`},
		{"newline through the fpm conf", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"apache_fpm_conf": "php8.2-fpm\ntouch /x"}
		}, `node.php.apache_fpm_conf: invalid module name "php8.2-fpm\ntouch /x"`},
		{"php-fpm config through the reload timeout", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"fpm_process_control_timeout": "10s\n[www]\nlisten = 0.0.0.0:9000"}
		}, `node.php.fpm_process_control_timeout`},
		{"php-fpm global conf outside a clean path", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"fpm_global_conf": "/etc/php/8.2/fpm/../../../x.conf"}
		}, `node.php.fpm_global_conf: invalid path "/etc/php/8.2/fpm/../../../x.conf"`},
		{"shell through a guard's module", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"handler": "fpm", "apache_module": "php8.2$(touch /x)"}
		}, `node.php.apache_module: invalid module name "php8.2$(touch /x)"`},
		{"shell through the mount point guard", "amazon", []string{"efs"}, func(s map[string]any) {
			s["efs"] = map[string]any{"file_system_id": "fs-12345678", "mount_point": "/mnt/$(touch /x)"}
		}, `node.efs.mount_point: invalid path "/mnt/$(touch /x)"`},
		{"fstab field through a mount option", "amazon", []string{"efs"}, func(s map[string]any) {
			s["efs"] = map[string]any{"file_system_id": "fs-12345678", "efs_utils_options": []any{"tls /etc ext4"}}
		}, `node.efs.efs_utils_options[1]: invalid word "tls /etc ext4"`},
		{"app name as a path", "debian", []string{"deploy::php"}, func(s map[string]any) {
			s["deploy"].(map[string]any)["../../x"] = map[string]any{"application_type": "php"}
		}, `node.deploy: invalid app name "../../x"`},
		{"archive limit not an integer", "debian", []string{"wordpress::deploy"}, func(s map[string]any) {
			wp(s)["scm"].(map[string]any)["max_archive_size"] = "1e9; touch /x"
		}, `node.deploy.wordpress.scm.max_archive_size: invalid integer "1e9; touch /x"`},
		{"archive limit below 1", "debian", []string{"wordpress::deploy"}, func(s map[string]any) {
			wp(s)["scm"].(map[string]any)["max_archive_entries"] = 0
		}, `node.deploy.wordpress.scm.max_archive_entries: invalid integer "0"`},
		{"deploy_to outside its place", "debian", []string{"wordpress::deploy"}, func(s map[string]any) {
			wp(s)["deploy_to"] = "/srv/www/../../etc"
		}, `node.deploy.wordpress.deploy_to: invalid path "/srv/www/../../etc"`},
		{"vhost injection through the multisite path", "debian", []string{"wordpress::configure"}, func(s map[string]any) {
			wp(s)["wordpress"].(map[string]any)["multisite"] = map[string]any{"enabled": true, "path_current_site": "/\nAlias /leak /etc\n/"}
		}, `node.deploy.wordpress.wordpress.multisite.path_current_site: invalid path`},
		{"php.ini directive through a key", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"ini": map[string]any{"x\nauto_prepend_file": "/tmp/evil.php"}}
		}, `node.php.ini key: invalid word "x\nauto_prepend_file"`},
		{"php.ini directive through a value", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"ini": map[string]any{"memory_limit": "256M\nauto_prepend_file = /tmp/evil.php"}}
		}, `node.php.ini.memory_limit: invalid value`},
		{"Listen injection through a port", "debian", []string{"apache2"}, func(s map[string]any) {
			s["apache"] = map[string]any{"listen_ports": []any{"80\nInclude /tmp/x"}}
		}, `node.apache.listen_ports[1]: invalid port "80\nInclude /tmp/x"`},
		{"apt option through a package", "debian", []string{"php"}, func(s map[string]any) {
			s["php"] = map[string]any{"extra_packages": []any{"-oDPkg::Pre-Invoke::=touch /x"}}
		}, `node.php.extra_packages[1]: invalid package name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if tc.platform == "amazon" { // amazon-efs-utils installed: the efs type and its guard
				os.MkdirAll(filepath.Join(root, "sbin"), 0o755)
				os.WriteFile(filepath.Join(root, "sbin/mount.efs"), []byte("#!/bin/sh\n"), 0o755)
			}
			before := treeList(t, root)
			stack := stackJSON(t)
			tc.change(stack)
			node := platformNode(t, tc.platform, tc.platform, map[string]string{"debian": "12", "amazon": "2023"}[tc.platform], stack)
			run := &fakeRunner{}
			out, err := refused(t, root, node, run, tc.runList...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run: %v\nwant an error with %s\n%s", err, tc.want, out)
			}
			if cmds := run.commands(); len(cmds) > 0 {
				t.Errorf("commands ran: %q", cmds)
			}
			if after := treeList(t, root); after != before {
				t.Errorf("files written under the root:\n%s", after)
			}
		})
	}
}

// refused converges runList (not in why-run) and returns its error.
func refused(t *testing.T, root string, node *recipes.Node, runner recipes.Runner, runList ...string) (string, error) {
	t.Helper()
	reg, _ := registry()
	items, err := recipes.ParseRunList(runList...)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = recipes.Run(context.Background(), recipes.Options{Registry: reg, Cookbooks: embedded(t), Node: node,
		RunList: items, Root: root, Runner: runner, Events: recipes.NewDocFormatter(&out), Secrets: secrets})
	return out.String(), err
}

// treeList lists every path under root.
func treeList(t *testing.T, root string) string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		out = append(out, p)
		return err
	})
	return strings.Join(out, "\n")
}
