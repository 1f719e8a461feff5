package recipes

import (
	"strings"
	"testing"
)

// The validate table as recipes call it: each function returns the value
// (lower-cased, a number, a PHP literal) or raises an error naming where.
func TestValidateTable(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
validate.keys({ a = 1, b_c = 2 }, "node.keys", "identifier")
probe "path" { value = validate.path("/srv/www", "node.path") }
probe "relpath" { value = validate.relpath("wp/content", "node.rel") }
probe "domain" { value = validate.domain("Example.COM", "node.domain") }
probe "wildcard" { value = validate.domain("*.Example.com", "node.wild", { wildcard = true }) }
probe "name" { value = validate.name("my-app", "node.name", "app name") }
probe "port" { value = tostring(validate.port("8080", "node.port")) }
probe "integer" { value = tostring(validate.integer(7, "node.int", 1, 10)) }
probe "php" { value = validate.php("it's", "node.php") }
probe "number" { value = validate.word(42, "node.word") }
`})
	p := newProbe()
	if r := runWith(t, p, set, nil, false, "app"); r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	want := map[string]string{
		"path": "/srv/www", "relpath": "wp/content", "domain": "example.com", "wildcard": "*.example.com",
		"name": "my-app", "port": "8080", "integer": "7", "php": `'it\'s'`, "number": "42",
	}
	for k, v := range want {
		if p.state[k] != v {
			t.Errorf("%s = %q, want %q", k, p.state[k], v)
		}
	}
}

func TestValidateTableRefuses(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`validate.path("relative", "node.p")`:                        "node.p",
		`validate.domain("*.example.com", "node.d")`:                 "node.d",
		`validate.name("bad name", "node.n", "app name")`:            "node.n",
		`validate.port("99999", "node.port")`:                        "node.port",
		`validate.integer(11, "node.i", 1, 10)`:                      "node.i",
		`validate.keys({ ["bad key"] = 1 }, "node.k", "identifier")`: "node.k",
		`validate.keys({}, "node.k", "nope")`:                        `unknown check "nope"`,
		`validate.line("two\nlines", "node.line")`:                   "node.line",
		`validate.php({}, "node.php")`:                               "node.php",
	}
	for call, says := range cases {
		t.Run(call, func(t *testing.T) {
			t.Parallel()
			set := books(t, map[string]string{"app/recipes/default.lua": call + "\n"})
			r := runWith(t, newProbe(), set, nil, false, "app")
			if r.err == nil || !strings.Contains(r.err.Error(), says) {
				t.Errorf("%s: error %v, want one saying %q", call, r.err, says)
			}
		})
	}
}
