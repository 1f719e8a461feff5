package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the CLI as a separate process (the test binary
// re-executed with STACKAGENT_CLI_ARGS), so signals can be sent to it.
func TestMain(m *testing.M) {
	if a := os.Getenv("STACKAGENT_CLI_ARGS"); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSignalExitCodes: SIGINT during a converge exits 2, SIGTERM exits 3
// (Chef RFC 062); the run stops and the report says interrupted.
func TestSignalExitCodes(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 2}, {syscall.SIGTERM, 3}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			root := t.TempDir()
			started := filepath.Join(root, "started")
			writeTree(t, root, map[string]string{"cb/spin/recipes/default.lua": `
lua_block "spin" {
  block = function()
    shell_out("touch ` + started + `")
    while true do end
  end,
}
log "never reached"
`})
			report := filepath.Join(root, "report.json")
			args, _ := json.Marshal([]string{"run-recipe", "--root", root, "--cookbooks", filepath.Join(root, "cb"), "--report", report, "spin"})
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "STACKAGENT_CLI_ARGS="+string(args))
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(started); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the recipe never started:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, c.code, out.String())
			}
			b, err := os.ReadFile(report)
			if err != nil || !strings.Contains(string(b), `"status": "interrupted"`) || strings.Contains(out.String(), "never reached") {
				t.Fatalf("report %s\n%s", b, out.String())
			}
		})
	}
}
