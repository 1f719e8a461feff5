package resources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestStagingRemovedAfterDownloads converges downloads that succeed and
// fail (a checksum mismatch after the body arrived, a body cut short) and
// finds nothing left in the staging parent after each run.
func TestStagingRemovedAfterDownloads(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cut" {
			w.Header().Set("Content-Length", "1000")
			fmt.Fprint(w, "short")
			return
		}
		fmt.Fprint(w, "not an archive")
	}))
	t.Cleanup(srv.Close)
	zero := strings.Repeat("0", 64)
	cases := []struct {
		name, recipe string
		whyRun       bool
		want         string // in the output or the error
	}{
		{"remote_file why-run", fmt.Sprintf(`remote_file "/srv/r" { source = "%s/r" }`, srv.URL), true, "Would create new file /srv/r"},
		{"remote_file why-run bad checksum", fmt.Sprintf(`remote_file "/srv/r" { source = "%s/r", checksum = %q }`, srv.URL, zero), true, "checksum mismatch"},
		{"remote_file why-run cut", fmt.Sprintf(`remote_file "/srv/r" { source = "%s/cut" }`, srv.URL), true, "unexpected EOF"},
		{"deploy bad checksum", deployRecipe(fmt.Sprintf(`source_type = "http", repository = "%s/a.tgz", checksum = %q`, srv.URL, zero)), false, "checksum mismatch"},
		{"deploy cut", deployRecipe(fmt.Sprintf(`source_type = "http", repository = "%s/cut", checksum = %q`, srv.URL, zero)), false, "unexpected EOF"},
	}
	reg := recipes.NewRegistry()
	Register(reg)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			parent, root := t.TempDir(), t.TempDir()
			os.Mkdir(filepath.Join(root, "srv"), 0o755)
			res := recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": c.recipe},
				recipestest.Opts{Root: root, WhyRun: c.whyRun, StagingParent: parent})
			if !strings.Contains(fmt.Sprint(res.Output, res.Err), c.want) {
				t.Fatalf("want %q; err %v\n%s", c.want, res.Err, res.Output)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Fatalf("staging parent holds %v after the run\n%s", left, res.Output)
			}
		})
	}
}
