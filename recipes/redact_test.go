package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRedactorEscapedForms(t *testing.T) {
	t.Parallel()
	rd := redactor(nil).with(`it's a\b"c<d>`)
	for _, s := range []string{
		`define( 'DB_PASSWORD', 'it\'s a\\b"c<d>' );`,                 // PHP single quotes
		`{"password":"it's a\\b\"c\u003cd\u003e"}`,                    // JSON, HTML-escaped
		`{"password":"it's a\\b\"c<d>"}`,                              // JSON
		`mysql -p'it'\''s a\b"c<d>'`,                                  // shell single quotes
		`pw="it's a\\b\"c<d>"`,                                        // Go %q
		`{"diff":"+define( 'DB_PASSWORD', 'it\\'s a\\\\b\"c<d>' );"}`, // JSON of the PHP form
	} {
		if got := rd.apply(s); !strings.Contains(got, suppressed) || strings.Contains(got, "c<d") || strings.Contains(got, `c\u003cd`) {
			t.Errorf("%s → %s", s, got)
		}
	}
}

func TestRedactorShortValues(t *testing.T) {
	t.Parallel()
	rd := redactor(nil).with("ab1")
	if got := rd.apply("pass=ab1 tab12 ab1"); got != "pass="+suppressed+" tab12 "+suppressed {
		t.Fatalf("got %q", got)
	}
}

func TestCredentialKeys(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"password": true, "db_password": true, "ssh_key": true, "sshKey": true, "AUTH_KEY": true,
		"api_token": true, "client_secret": true, "keys": true, "NONCE_SALT": true, "passphrase": true,
		"key_name": false, "password_file": false, "public_key": false, "monkey": false, "keyring": false,
		"host": false, "username": false, "secret_arn": false,
	} {
		if got := credentialKey(k); got != want {
			t.Errorf("credentialKey(%q) = %v, want %v", k, got, want)
		}
	}
	got := credentialValues(map[string]any{"database": map[string]any{"host": "db1", "password": "pw",
		"ref": map[string]any{"secret": "ssm:/x"}}, "wordpress": map[string]any{"keys": map[string]any{"AUTH": "k1"}}})
	if strings.Join(got, ",") != "pw,k1" && strings.Join(got, ",") != "k1,pw" {
		t.Fatalf("credential values %q", got)
	}
}

// TestCompileErrorHidesSecret: a recipe that fails at compile time with a
// message quoting a secret (or a credential attribute) does not show it.
func TestCompileErrorHidesSecret(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `error("cannot log in with " .. node.db.password .. " or " .. node.api_token)`})
	node := NewNode("n")
	node.Merge(Normal, map[string]any{"api_token": "tok-123456", "db": map[string]any{"password": map[string]any{"secret": "ssm:/p"}}})
	items, _ := ParseRunList("app")
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Registry: NewRegistry(), Cookbooks: set, Node: node, RunList: items,
		Events: NewDocFormatter(&out), Secrets: mapSecrets{"ssm:/p": "s3cr3t-value"}})
	var ce CompileErrors
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot log in with "+suppressed) {
		t.Fatalf("got %v", err)
	}
	b, _ := json.Marshal(rep)
	for _, s := range []string{err.Error(), out.String(), string(b)} {
		if strings.Contains(s, "s3cr3t-value") || strings.Contains(s, "tok-123456") {
			t.Fatalf("leaked: %s", s)
		}
	}
}

// BenchmarkRedactorApply: a run with five secrets (with their escaped
// forms) hiding them in 64 KiB of output.
func BenchmarkRedactorApply(b *testing.B) {
	rd := redactor(nil).with("s3cr3t-one", `tw'o\"x`, "three-3333", "four-44444444", "ab1")
	text := strings.Repeat("  * template[/srv/www/app/shared/config/wp-config.php] action create\n", 1000)[:64<<10]
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		rd.apply(text)
	}
}
