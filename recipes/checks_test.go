package recipes

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestValueChecks(t *testing.T) {
	t.Parallel()
	type c struct {
		check func(string) error
		good  []string
		bad   []string
	}
	cases := map[string]c{
		"domain": {func(v string) error { return CheckDomain("d", v, false) },
			[]string{"example.com", "WWW.Example.com", "localhost", "a-b.c0", "10.0.0.1"},
			[]string{"", "*.example.com", "example.com\nAlias /leak /etc", "-a.com", "a-.com", "a..com", "a.com.", "a b.com", "ex_ample.com", strings.Repeat("a", 64) + ".com"}},
		"wildcard": {func(v string) error { return CheckDomain("d", v, true) },
			[]string{"*.example.com", "example.com"},
			[]string{"*", "*.", "a.*.com", "**.example.com"}},
		"path": {func(v string) error { return CheckPath("p", v) },
			[]string{"/", "/mnt/efs", "/srv/www/wp-1/current"},
			[]string{"", "mnt", "/mnt/../etc", "/mnt/", "/mnt//x", "/mnt/$(id)", "/mnt/a b", "/mnt\n", "/mnt/.", "/a;b"}},
		"relpath": {func(v string) error { return CheckRelPath("p", v) },
			[]string{"wp-content/uploads", "public", "a/b.c"},
			[]string{"", "/abs", "..", "../x", "a/../../x", "a/", "./a", "a\nb"}},
		"identifier": {func(v string) error { return CheckIdentifier("i", v) },
			[]string{"WP_DEBUG", "_x", "a1"},
			[]string{"", "1a", "X', system('id')); //", "A-B", "A B"}},
		"module": {func(v string) error { return CheckModule("m", v) },
			[]string{"rewrite", "proxy_fcgi", "php8.2", "php8.2-fpm"},
			[]string{"", "ssl; touch /x", "-f", "../x", "a/b", "a..b", "Rewrite"}},
		"word": {func(v string) error { return CheckWord("w", v) },
			[]string{"Prod", "date.timezone", "nfsvers=4.1", "_netdev", "256M"},
			[]string{"", "-o", ".x", "a b", "a,b", "a;b", "a\nb", `a"b`}},
		"package": {func(v string) error { return CheckPackage("p", v) },
			[]string{"php8.2-fpm", "libstdc++6", "nfs-utils"},
			[]string{"", "-oDPkg::Pre-Invoke::=touch /x", "a b", "a/b"}},
		"line": {func(v string) error { return CheckLine("l", v) },
			[]string{"Prod", "FileInfo AuthConfig", ""},
			[]string{"a\nb", "a\rb", "a\\", "a\x00"}},
	}
	for name, tc := range cases {
		for _, v := range tc.good {
			if err := tc.check(v); err != nil {
				t.Errorf("%s %q: %v", name, v, err)
			}
		}
		for _, v := range tc.bad {
			if err := tc.check(v); err == nil {
				t.Errorf("%s %q: accepted", name, v)
			}
		}
	}
	for _, v := range []any{int64(80), "443", 8080.0} {
		if _, err := CheckPort("port", v); err != nil {
			t.Errorf("port %v: %v", v, err)
		}
	}
	for _, v := range []any{int64(0), int64(65536), "80 ", 80.5, nil, true, "http"} {
		if _, err := CheckPort("port", v); err == nil {
			t.Errorf("port %v: accepted", v)
		}
	}
	for v, want := range map[any]string{nil: "null", true: "true", int64(3): "3", 2.0: "2", 0.5: "0.5",
		`it's \ here`: `'it\'s \\ here'`} {
		if got, err := PHPLiteral("x", v); err != nil || got != want {
			t.Errorf("php %v: %s %v, want %s", v, got, err, want)
		}
	}
	err := CheckDomain("node.deploy.wp.domains[2]", "a\nAlias /leak /etc", false)
	if err == nil || !strings.HasPrefix(err.Error(), `node.deploy.wp.domains[2]: invalid domain name "a\nAlias /leak /etc"`) {
		t.Fatalf("error %v", err)
	}
}

// TestPHPLiteralRoundTrip has real PHP read back what PHPLiteral wrote:
// hostile strings stay data, every JSON type keeps its type.
func TestPHPLiteralRoundTrip(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("no php")
	}
	values := []any{"X'); system('id'); //", `back\slash\`, `\'`, "line\nbreak?>", "<?php echo 1; ?>", "${x} $y",
		true, false, nil, int64(42), -7.5, 1e20}
	var src strings.Builder
	src.WriteString("<?php return [\n")
	for _, v := range values {
		lit, err := PHPLiteral("v", v)
		if err != nil {
			t.Fatal(err)
		}
		src.WriteString("  " + lit + ",\n")
	}
	src.WriteString("];\n")
	f := filepath.Join(t.TempDir(), "v.php")
	if err := os.WriteFile(f, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(php, "-r", `echo json_encode(include $argv[1], JSON_PRESERVE_ZERO_FRACTION);`, f).CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s\n%s", err, out, src.String())
	}
	want, _ := json.Marshal(values)
	var got, exp []any
	json.Unmarshal(out, &got)
	json.Unmarshal(want, &exp)
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("php read\n%s\nwant\n%s", out, want)
	}
}
