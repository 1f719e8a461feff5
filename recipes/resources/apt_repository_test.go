package resources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

const testArmoredKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGtest\n-----END PGP PUBLIC KEY BLOCK-----\n"

// TestAptRepository writes the source list with signed-by its own
// keyring, fetched over HTTPS from a 127.0.0.1 server, rebuilds that
// list's cache only (through a recording runner), is idempotent, and
// removes both files.
func TestAptRepository(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, testArmoredKey) }))
	t.Cleanup(srv.Close)
	root := t.TempDir()
	rr := &recordRunner{}
	o := recipestest.Opts{Root: root, Runner: rr, HTTP: srv.Client()}
	recipe := `apt_repository "nginx" { uri = "https://nginx.org/packages/debian", distribution = "bookworm",
  components = {"nginx"}, arch = "amd64", key = "` + srv.URL + `/key.asc" }`
	sysConverge(t, o, recipe, 1)
	if got := readFile(t, filepath.Join(root, "etc/apt/sources.list.d/nginx.list")); got !=
		"deb [arch=amd64 signed-by=/etc/apt/keyrings/nginx.asc] https://nginx.org/packages/debian bookworm nginx\n" {
		t.Fatalf("list: %q", got)
	}
	if got := readFile(t, filepath.Join(root, "etc/apt/keyrings/nginx.asc")); got != testArmoredKey {
		t.Fatalf("keyring: %q", got)
	}
	if got := strings.Join(rr.recorded(), "; "); !strings.Contains(got, "apt-get update -q -o Dir::Etc::sourcelist=sources.list.d/nginx.list -o Dir::Etc::sourceparts=-") {
		t.Fatalf("commands: %s", got)
	}
	sysConverge(t, o, recipe, 0)
	sysConverge(t, o, `apt_repository "nginx" { action = "remove" }`, 1)
	if pathExists(filepath.Join(root, "etc/apt/keyrings/nginx.asc")) || pathExists(filepath.Join(root, "etc/apt/sources.list.d/nginx.list")) {
		t.Fatal("remove left files")
	}
	for recipe, want := range map[string]string{
		`apt_repository "../x" { uri = "https://a.example" }`:                                       "invalid repository name",
		`apt_repository "x" { uri = "https://a.example] evil", distribution = "d" }`:                `is not a URL`,
		`apt_repository "x" { uri = "https://a.example", distribution = "d\ndeb http://evil d m" }`: "want one word",
		`apt_repository "x" { uri = "https://a.example", distribution = "d", key = "http://k" }`:    "want a URL of https",
	} {
		if res := sysConvergeErr(t, o, recipe); !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %s", recipe, res.Err, want)
		}
	}
}
