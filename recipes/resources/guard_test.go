package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestStringGuardInheritsExecuteContext: a string only_if/not_if of
// execute and bash runs with the resource's cwd and environment, as
// Chef's guard interpreter does, so `not_if "test -f out"` looks where the
// command writes.
func TestStringGuardInheritsExecuteContext(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "work")
	os.MkdirAll(dir, 0o755)
	o := recipestest.Opts{Root: root}
	recipe := `
execute "echo $GREETING > out.txt" { cwd = "` + dir + `", environment = { GREETING = "hi" }, not_if = "test -f out.txt" }
bash "b" { cwd = "` + dir + `", environment = { MARK = "m1" }, code = "echo $MARK > b.txt", not_if = "grep -q \"$MARK\" b.txt" }
execute "only when env seen" { command = "touch ` + dir + `/env", environment = { SEEN = "yes" }, only_if = "test \"$SEEN\" = yes" }
`
	sysConverge(t, o, recipe, 3)
	res := sysConverge(t, o, recipe, 1) // the two not_if guards now hold; only_if still does
	if !strings.Contains(res.Output, "skipped due to not_if") {
		t.Fatalf("guards did not see cwd/environment:\n%s", res.Output)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(b) != "hi\n" {
		t.Fatalf("out.txt = %q", b)
	}
}

// TestStringGuardInheritsUser: as root, a guard of an execute with user
// runs as that user.
func TestStringGuardInheritsUser(t *testing.T) {
	t.Parallel()
	needRoot(t, "runs a guard as nobody")
	root := t.TempDir()
	o := recipestest.Opts{Root: root}
	res := sysConverge(t, o, `execute "true" { user = "nobody", only_if = "test \"$(id -un)\" = nobody" }`, 1)
	if strings.Contains(res.Output, "skipped") {
		t.Fatalf("guard did not run as nobody:\n%s", res.Output)
	}
}
