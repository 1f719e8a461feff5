package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonHotReload: a cookbook edited while the daemon runs is used by
// the next event; a changed config file is applied without a restart; a
// broken one is refused with the reason logged and the old one kept.
func TestDaemonHotReload(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	cfgFile := filepath.Join(e.root, "agent.yaml")
	writeTree(t, e.root, map[string]string{"agent.yaml": "stack: prod\n"})
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	// --stack is not passed as a flag here, so the file decides.
	var args []string
	for i := 0; i < len(e.args); i++ {
		if e.args[i] == "--stack" {
			i++
			continue
		}
		args = append(args, e.args[i])
	}
	log := startDaemon(t, args)
	processed := func(name string) func() bool {
		return func() bool {
			_, err := os.Stat(filepath.Join(inbox, "processed", name+".json"))
			return err == nil
		}
	}
	dropEvent(t, inbox, "one", map[string]any{"id": "one", "type": "configure"})
	waitFor(t, "the first event", 10*time.Second, processed("one"))

	// Edit the recipe: the next run uses it.
	writeTree(t, e.root, map[string]string{"cb/rec/recipes/configure.lua": `lua_block "edited" { block = function() shell_out("echo edited " .. node.stackagent.event.id .. " >> " .. node.out) end }` + "\n"})
	dropEvent(t, inbox, "two", map[string]any{"id": "two", "type": "configure"})
	waitFor(t, "the second event", 10*time.Second, processed("two"))
	if got := e.ran(); len(got) != 2 || got[1] != "edited two" {
		t.Fatalf("after the cookbook edit: %q", got)
	}

	// A broken config is refused and the old one kept.
	os.WriteFile(cfgFile+".tmp", []byte("stack: [unclosed\n"), 0o644)
	os.Rename(cfgFile+".tmp", cfgFile)
	waitFor(t, "the refusal in the log", 10*time.Second, func() bool {
		return strings.Contains(log.String(), "config file changed but the config is invalid; keeping the running config")
	})
	if !strings.Contains(log.String(), "agent.yaml:1") {
		t.Errorf("the refusal should say where:\n%s", log.String())
	}
	dropEvent(t, inbox, "three", map[string]any{"id": "three", "type": "configure", "stack": "prod"})
	waitFor(t, "the third event", 10*time.Second, processed("three"))
	if r := readResult(t, inbox, "three"); r.Status != "success" {
		t.Fatalf("old config not kept: %+v", r)
	}

	// A valid change is applied: now this instance is in stack staging.
	os.WriteFile(cfgFile+".tmp", []byte("stack: staging\n"), 0o644)
	os.Rename(cfgFile+".tmp", cfgFile)
	waitFor(t, "the reload", 10*time.Second, func() bool { return strings.Contains(log.String(), "config file changed; reloading") })
	dropEvent(t, inbox, "four", map[string]any{"id": "four", "type": "configure", "stack": "prod"})
	waitFor(t, "the fourth event", 10*time.Second, processed("four"))
	if r := readResult(t, inbox, "four"); r.Status != "skipped" {
		t.Fatalf("an event for prod after moving to staging: %+v", r)
	}
}

// TestRunRecipeWatch: --watch converges again when a cookbook file
// changes, until interrupted.
func TestRunRecipeWatch(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	out := "/out.txt" // under --root
	writeTree(t, root, map[string]string{"cb/w/recipes/default.lua": `file "` + out + `" { content = "one" }` + "\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf lockedBuilder
	done := make(chan error, 1)
	go func() {
		cmd := newRootCmd(&buf, &buf)
		cmd.SetArgs([]string{"run-recipe", "--watch", "--root", root, "--cookbooks", filepath.Join(root, "cb"), "w"})
		done <- cmd.ExecuteContext(ctx)
	}()
	read := func(want string) func() bool {
		return func() bool { b, _ := os.ReadFile(filepath.Join(root, out)); return string(b) == want }
	}
	waitFor(t, "the first converge", 10*time.Second, func() bool {
		if read("one")() {
			return true
		}
		t.Log(buf.String())
		return false
	})
	waitFor(t, "watching", 10*time.Second, func() bool { return strings.Contains(buf.String(), "watching") })
	writeTree(t, root, map[string]string{"cb/w/recipes/default.lua": `file "` + out + `" { content = "two" }` + "\n"})
	waitFor(t, "the converge after the edit", 10*time.Second, read("two"))
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("--watch did not stop")
	}
}
