package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRecipeRefusesInjection drives run-recipe --why-run as an
// operator would, with stack JSON that the audit turned into shell (a
// php.apache_module reached a guard's /bin/sh even in why-run) and into
// Apache config (a domain with a newline): the run fails at compile
// time naming the attribute, nothing runs, nothing is written.
func TestRunRecipeRefusesInjection(t *testing.T) {
	if _, err := os.Stat("/etc/debian_version"); err != nil {
		t.Skip("the php guard is the Debian layout's")
	}
	for _, tc := range []struct {
		name, attrs, runList, want string
	}{
		{"module into a guard", `{"php": {"handler": "fpm", "apache_module": "php8.2; touch MARKER #"}}`, "php",
			`node.php.apache_module: invalid module name "php8.2; touch `},
		{"domain into the vhost", `{"deploy": {"wp": {"application_type": "wordpress", "domains": ["example.com", "x.example.com\nAlias /leak /etc"]}}}`,
			"wordpress::configure", `node.deploy.wp.domains[2]: invalid domain name "x.example.com\nAlias /leak /etc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			marker := filepath.Join(t.TempDir(), "pwned")
			attrs := filepath.Join(t.TempDir(), "stack.json")
			if err := os.WriteFile(attrs, []byte(strings.ReplaceAll(tc.attrs, "MARKER", marker)), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "run-recipe", "--why-run", "--root", root, "-j", attrs, tc.runList)
			want := strings.ReplaceAll(tc.want, "MARKER", marker)
			if r.code != 1 || !strings.Contains(r.out+r.err, want) {
				t.Fatalf("exit %d, want 1 and %s\n%s\n%s", r.code, want, r.out, r.err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the attribute ran as shell")
			}
			if ents, _ := os.ReadDir(root); len(ents) > 0 {
				t.Fatalf("wrote under the root: %v", ents)
			}
		})
	}
}
