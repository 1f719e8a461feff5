package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestInterpreterScripts runs python, perl and script (with an
// interpreter given) in their cwd with their environment; an interpreter
// that is a command line is refused before anything runs.
func TestInterpreterScripts(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{"python3", "perl"} {
		if !hasCommand(prog) {
			t.Skipf("%s not installed", prog)
		}
	}
	root := t.TempDir()
	dir := filepath.Join(root, "work")
	os.MkdirAll(dir, 0o755)
	o := recipestest.Opts{Root: root}
	recipe := `
python "py" { cwd = "` + dir + `", environment = { WHO = "python" }, code = "import os\nopen('py.txt', 'w').write(os.environ['WHO'])", not_if = "test -f py.txt" }
perl "pl" { cwd = "` + dir + `", environment = { WHO = "perl" }, flags = "-w", code = "open(my $f, '>', 'pl.txt') or die; print $f $ENV{WHO};" }
script "sh" { interpreter = "/bin/sh", flags = "-e", cwd = "` + dir + `", code = "echo \"$0\" > sh.txt" }
`
	sysConverge(t, o, recipe, 3)
	for f, want := range map[string]string{"py.txt": "python", "pl.txt": "perl"} {
		if got := readFile(t, filepath.Join(dir, f)); got != want {
			t.Errorf("%s = %q, want %q", f, got, want)
		}
	}
	if got := readFile(t, filepath.Join(dir, "sh.txt")); !strings.Contains(got, "stackagent-script-") {
		t.Errorf("script ran %q, not a script file", got)
	}
	res := sysConverge(t, o, recipe, 2) // python's not_if now holds in its cwd
	if !strings.Contains(res.Output, "python[py] action run (skipped due to not_if)") {
		t.Fatalf("guard:\n%s", res.Output)
	}
	res = sysConvergeErr(t, o, `script "x" { interpreter = "sh -c 'touch `+dir+`/pwned'", code = "true" }`)
	if !strings.Contains(res.Err.Error(), "is not a program name or absolute path") || pathExists(filepath.Join(dir, "pwned")) {
		t.Fatalf("interpreter as a command line: %v", res.Err)
	}
}
