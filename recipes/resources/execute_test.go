package resources

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestExecuteAndBash runs commands and scripts with cwd, environment,
// creates, returns, a timeout and sensitive output, as the current user.
func TestExecuteAndBash(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "work")
	os.MkdirAll(dir, 0o755)
	o := recipestest.Opts{Root: root}
	recipe := `
execute "echo $GREETING > out.txt" { cwd = "` + dir + `", environment = { GREETING = "hi there" } }
execute "make-marker" { command = "touch ` + dir + `/marker", creates = "/work/marker" }
execute "exit 3" { returns = {0, 3} }
bash "script" { cwd = "` + dir + `", flags = "-e", code = "echo \"$0 $BASH_VERSION\" > bash.txt\nfalse\necho never >> bash.txt" , returns = 1 }
`
	sysConverge(t, o, recipe, 4)
	if b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(b) != "hi there\n" {
		t.Fatalf("out.txt = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bash.txt")); strings.Contains(string(b), "never") || !strings.Contains(string(b), "stackagent-script-") {
		t.Fatalf("bash.txt = %q (flags -e not applied or not a script)", b)
	}
	// Unguarded execute and bash run every time, as in Chef; creates skips.
	res := sysConverge(t, o, recipe, 3)
	if !strings.Contains(res.Output, "execute[make-marker] action run (up to date)") {
		t.Fatalf("creates did not skip:\n%s", res.Output)
	}
	res = sysConvergeErr(t, o, `execute "echo oops-out; echo oops-err >&2; exit 4"`)
	if !strings.Contains(res.Report.Error, "Expected process to exit with [0], but received '4'") ||
		!strings.Contains(res.Report.Error, "STDOUT: oops-out") || !strings.Contains(res.Report.Error, "STDERR: oops-err") {
		t.Fatalf("error: %s", res.Report.Error)
	}
	res = sysConvergeErr(t, o, `execute "sleep 30" { timeout = 0.3 }`)
	if !strings.Contains(res.Report.Error, "timed out") || res.Report.ElapsedSeconds > 10 {
		t.Fatalf("timeout: %s after %.1fs", res.Report.Error, res.Report.ElapsedSeconds)
	}
}

func TestExecuteSensitive(t *testing.T) {
	t.Parallel()
	o := recipestest.Opts{Root: t.TempDir()}
	for _, recipe := range []string{
		`execute "token" { command = "echo s3cr3t-token-value; exit 2", sensitive = true }`,
		`bash "secret" { code = "echo s3cr3t-token-value >&2\nexit 2", sensitive = true }`,
	} {
		res := sysConvergeErr(t, o, recipe)
		rep, _ := json.Marshal(res.Report)
		if strings.Contains(res.Output, "s3cr3t") || strings.Contains(string(rep), "s3cr3t") {
			t.Fatalf("secret leaked:\n%s\n%s", res.Output, rep)
		}
		if !strings.Contains(res.Report.Error, "but received '2'") {
			t.Fatalf("error: %s", res.Report.Error)
		}
	}
}

// TestExecuteAsUser runs a command as another user and group.
func TestExecuteAsUser(t *testing.T) {
	needRoot(t, "runs commands as nobody")
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o777)
	o := recipestest.Opts{}
	sysConverge(t, o, `execute "id -un > `+dir+`/who; id -gn >> `+dir+`/who; echo $HOME >> `+dir+`/who" { user = "nobody", group = "nogroup", cwd = "`+dir+`" }
bash "as nobody" { user = "nobody", code = "whoami > `+dir+`/bash-who" }`, 2)
	b, _ := os.ReadFile(filepath.Join(dir, "who"))
	if string(b) != "nobody\nnogroup\n/nonexistent\n" {
		t.Fatalf("who = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bash-who")); string(b) != "nobody\n" {
		t.Fatalf("bash-who = %q", b)
	}
	if out, _ := exec.Command("stat", "-c", "%U", filepath.Join(dir, "who")).Output(); string(out) != "nobody\n" {
		t.Fatalf("file owner %q", out)
	}
}

// TestExecuteArgv: a list command is argv, run without a shell, so a
// value holding shell syntax stays one argument; shell_out takes argv
// the same way. A list with a non-string is refused at compile time.
func TestExecuteArgv(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "work")
	os.MkdirAll(dir, 0o755)
	marker := filepath.Join(dir, "pwned")
	hostile := "x; touch " + marker + " $(touch " + marker + ")"
	recipe := fmt.Sprintf(`
local v = %q
execute "argv" { command = { "/bin/sh", "-c", 'printf "%%s" "$1" > %s/arg.txt', "sh", v } }
lua_block "shell_out argv" { block = function()
  local r = shell_out({ "/bin/echo", v })
  if r.exitstatus ~= 0 or r.stdout ~= v .. "\n" then error("shell_out argv: " .. r.stdout) end
end }
execute "guarded" { command = { "/bin/true" }, only_if = function() return shell_out({ "test", "-e", v }).exitstatus == 0 end }
`, hostile, dir)
	res := sysConverge(t, recipestest.Opts{Root: root}, recipe, 2)
	if b, _ := os.ReadFile(filepath.Join(dir, "arg.txt")); string(b) != hostile {
		t.Fatalf("argument = %q, want %q\n%s", b, hostile, res.Output)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a value in argv ran as shell")
	}
	if !strings.Contains(res.Output, "execute[guarded] action run (skipped due to only_if)") {
		t.Fatalf("guard:\n%s", res.Output)
	}
	res = sysConvergeErr(t, recipestest.Opts{Root: root}, `execute "bad" { command = { "echo", { "nested" } } }`)
	if !strings.Contains(res.Output, "property command: item 2") {
		t.Fatalf("bad argv:\n%s", res.Output)
	}
}
