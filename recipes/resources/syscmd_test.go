package resources

import (
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

// sysConverge converges one recipe with every built-in kind and checks the
// run succeeded with wantUpdated resources updated (-1: any).
func sysConverge(t *testing.T, o recipestest.Opts, recipe string, wantUpdated int) recipestest.Result {
	t.Helper()
	reg := recipes.NewRegistry()
	Register(reg)
	res := recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": recipe}, o)
	if res.Err != nil {
		t.Fatalf("converge: %v\n%s", res.Err, res.Output)
	}
	if wantUpdated >= 0 && res.Report.UpdatedResources != wantUpdated {
		t.Fatalf("updated %d resources, want %d\n%s", res.Report.UpdatedResources, wantUpdated, res.Output)
	}
	return res
}

// sysConvergeErr converges a recipe that must fail and returns the result.
func sysConvergeErr(t *testing.T, o recipestest.Opts, recipe string) recipestest.Result {
	t.Helper()
	reg := recipes.NewRegistry()
	Register(reg)
	res := recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": recipe}, o)
	if res.Err == nil {
		t.Fatalf("converge succeeded, want a failure\n%s", res.Output)
	}
	return res
}

// needRoot: an integration test as root; skips under -short and for a
// normal user (testenv.Root).
func needRoot(t *testing.T, why string) {
	t.Helper()
	testenv.Root(t, why)
}

func TestExitErrorMessage(t *testing.T) {
	t.Parallel()
	e := &ExitError{Command: "false", Want: []int{0, 2}, Got: 1, Stdout: "out\n", Stderr: "err"}
	want := "Expected process to exit with [0, 2], but received '1'\n---- Begin output of false ----\nSTDOUT: out\nSTDERR: err\n---- End output of false ----"
	if e.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", e.Error(), want)
	}
	e.Quiet = true
	if strings.Contains(e.Error(), "out") || !strings.Contains(e.Error(), "suppressed") {
		t.Fatalf("quiet error shows output: %s", e.Error())
	}
}
