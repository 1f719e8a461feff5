package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestDeployCLIRefusesPathNames: `stackagent deploy|rollback|releases`
// with an app named by a path, or --to a path, fails before anything
// runs and the host's tree is untouched. Before, `rollback ../../..`
// pointed the deploy resource at the root itself.
func TestDeployCLIRefusesPathNames(t *testing.T) {
	t.Parallel()
	root, config := deployHost(t)
	if r := runCLI(t, "deploy", "wp", "--config", config, "--root", root); r.code != 0 {
		t.Fatalf("deploy wp: %+v", r)
	}
	before := recipestest.TreeHash(t, root)
	for _, args := range [][]string{
		{"deploy", "../../..", "--config", config, "--root", root},
		{"rollback", "../../..", "--config", config, "--root", root},
		{"rollback", "wp", "--to", "../../..", "--config", config, "--root", root},
		{"releases", "../../etc", "--root", root},
		{"deploy", ".", "--config", config, "--root", root},
	} {
		r := runCLI(t, args...)
		if r.code != 1 || !strings.Contains(r.err, "invalid") {
			t.Errorf("%v: want exit 1 naming the invalid name: %+v", args, r)
		}
	}
	if after := recipestest.TreeHash(t, root); after != before {
		t.Fatal("a refused command changed the host's tree")
	}
}

// TestAttributeFileRefusesPathAppNames: an attributes.d file whose deploy
// object is keyed by a path fails the run, naming the file and the key.
func TestAttributeFileRefusesPathAppNames(t *testing.T) {
	t.Parallel()
	root, config := deployHost(t)
	writeTree(t, root, map[string]string{"etc/stackagent/attributes.d/20-apps.json": `{"deploy": {"wp": {}, "../../..": {}}}`})
	r := runCLI(t, "deploy", "wp", "--config", config, "--root", root)
	if r.code != 1 || !strings.Contains(r.err, `20-apps.json: deploy["../../.."]: invalid app name`) {
		t.Fatalf("deploy with a bad attribute file: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(root, "srv/www")); !os.IsNotExist(err) {
		t.Fatalf("something was deployed: %v", err)
	}
}

// TestDaemonRefusesHostileEvents drives the daemon's inbox with the
// audit's messages: each is refused with a result saying why (nothing
// runs, nothing is left in the inbox, no in-progress record), and the
// daemon takes the next event afterwards instead of looping.
func TestDaemonRefusesHostileEvents(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	sentinel := filepath.Join(e.root, "srv")
	writeTree(t, e.root, map[string]string{"srv/keep/index.php": "keep"})
	before := recipestest.TreeHash(t, sentinel)
	deep := `{"version":1,"id":"deep","type":"configure","attributes":{"x":` +
		strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}}`
	hostile := map[string]struct{ body, reason string }{
		"undeploy-root": {`{"version":1,"id":"u-root","type":"undeploy","app":"../../.."}`, `app: invalid app name "../../.."`},
		"deploy-key":    {`{"version":1,"id":"d-key","type":"deploy","attributes":{"deploy":{"../x":{}}}}`, `attributes.deploy["../x"]: invalid app name`},
		"role-path":     {`{"version":1,"id":"r-path","type":"execute_recipes","recipes":["role[../../x]"]}`, "invalid role name"},
		"layer-path":    {`{"version":1,"id":"l-path","type":"configure","layers":["web","../.."]}`, "layers[1]: invalid layer name"},
		"huge-number":   {`{"version":1,"id":"n-big","type":"configure","attributes":{"n":1e400}}`, "attributes.n: number out of range"},
		"deep":          {deep, "nested more than 64 levels"},
		"oversize":      {`{"version":1,"id":"big","type":"configure","attributes":{"x":"` + strings.Repeat("y", 300<<10) + `"}}`, "more than 262144 bytes"},
	}
	// A role file outside the roles dir that role[../../x] would load.
	writeTree(t, e.root, map[string]string{"x.json": `{"run_list":["rec::adhoc"]}`})
	log := startDaemon(t, e.args)
	for name, h := range hostile {
		writeTree(t, inbox, map[string]string{name + ".json": h.body})
	}
	for name, h := range hostile {
		waitFor(t, name+" to be refused and moved aside", 30*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(inbox, "processed", name+".json"))
			return err == nil && readResult(t, inbox, name) != nil
		})
		r := readResult(t, inbox, name)
		if r.Status != lifecycle.StatusRefused || !strings.Contains(r.Reason, h.reason) {
			t.Errorf("%s: %s %q; want refused saying %q", name, r.Status, r.Reason, h.reason)
		}
	}
	// Idle afterwards: the next event runs, and each refusal was logged
	// once (before, 1e400 was handed back and retried without end).
	dropEvent(t, inbox, "after", map[string]any{"id": "after-1", "type": "execute_recipes", "recipes": []string{"rec::adhoc"}})
	waitFor(t, "the next event", 30*time.Second, func() bool { return readResult(t, inbox, "after") != nil })
	if got := e.ran(); len(got) != 1 || got[0] != "adhoc execute_recipes - after-1" {
		t.Fatalf("ran %q", got)
	}
	if n := strings.Count(log.String(), `msg="event refused"`); n != len(hostile) {
		t.Errorf("%d refusals logged for %d messages\n%.3000s", n, len(hostile), log.String())
	}
	// The result file is written before the journal entry and the
	// in-progress record's removal: wait for the event to settle.
	waitFor(t, "the in-progress record to go", 30*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(e.state, "in-progress.json"))
		return os.IsNotExist(err)
	})
	if after := recipestest.TreeHash(t, sentinel); after != before {
		t.Error("the tree changed")
	}
}

// TestDaemonLongIDDeduplicatedAcrossRestart: an event with a 200 KB id
// runs once; after a restart of the daemon a redelivery of it is found in
// the journal and deleted without a run. Before, its journal line passed
// the reader's 1 MiB limit and every entry after it was lost.
func TestDaemonLongIDDeduplicatedAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	// 200 KB of '<', which Go's JSON encoder writes as \u003c: the old
	// journal line was 1.2 MB.
	body := `{"version":1,"id":"long-` + strings.Repeat("<", 200<<10) + `","type":"execute_recipes","recipes":["rec::long"]}`
	// The recorder puts the id on a command line: too long for one here.
	writeTree(t, e.root, map[string]string{"cb/rec/recipes/long.lua": `lua_block "record long" { block = function() shell_out("echo long >> " .. node.out) end }`})
	drop := func(name string) {
		t.Helper()
		writeTree(t, e.root, map[string]string{".drop/" + name + ".json": body})
		if err := os.Rename(filepath.Join(e.root, ".drop", name+".json"), filepath.Join(inbox, name+".json")); err != nil {
			t.Fatal(err)
		}
	}
	stop := daemonUntil(t, e.args)
	drop("first")
	waitFor(t, "the first run", 30*time.Second, func() bool { return readResult(t, inbox, "first") != nil })
	dropEvent(t, inbox, "short", map[string]any{"id": "short-1", "type": "execute_recipes", "recipes": []string{"rec::adhoc"}})
	waitFor(t, "the second event", 30*time.Second, func() bool { return readResult(t, inbox, "short") != nil })
	stop()
	if fi, err := os.Stat(filepath.Join(e.state, "journal.jsonl")); err != nil || fi.Size() > 4096 {
		t.Fatalf("journal: %v, %d bytes", err, fi.Size())
	}
	daemonUntil(t, e.args)
	drop("again")
	dropEvent(t, inbox, "short-again", map[string]any{"id": "short-1", "type": "execute_recipes", "recipes": []string{"rec::adhoc"}})
	waitFor(t, "the redeliveries", 30*time.Second, func() bool {
		return readResult(t, inbox, "again") != nil && readResult(t, inbox, "short-again") != nil
	})
	if got := e.ran(); len(got) != 2 {
		t.Fatalf("runs: %q, want 2 (each event once); results %+v %+v", got, readResult(t, inbox, "first"), readResult(t, inbox, "short"))
	}
	for _, name := range []string{"first", "again"} {
		if r := readResult(t, inbox, name); r.Status != lifecycle.StatusSuccess {
			t.Errorf("%s: %s %s", name, r.Status, r.Reason)
		}
	}
}

// daemonUntil runs the daemon in-process; stop ends it and waits (also at
// the end of the test).
func daemonUntil(t *testing.T, args []string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmd := newRootCmd(&lockedBuilder{}, &lockedBuilder{})
		cmd.SetArgs(args)
		cmd.ExecuteContext(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("daemon did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestRunRecipeRefusesPathRolesAndBags: run-recipe with role[../x] (a
// JSON file outside the roles directory that would have been loaded as a
// role) and a recipe reading data_bag_item("..", …) both fail naming the
// invalid name; nothing runs.
func TestRunRecipeRefusesPathRolesAndBags(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	cb := filepath.Join(root, "etc/stackagent/cookbooks")
	out := filepath.Join(root, "out.txt")
	writeTree(t, root, map[string]string{
		"etc/stackagent/cookbooks/site/metadata.json":       `{"name": "site", "version": "1.0.0"}`,
		"etc/stackagent/cookbooks/site/recipes/default.lua": `lua_block "record" { block = function() shell_out("touch ` + out + `") end }`,
		"etc/stackagent/cookbooks/site/recipes/bag.lua":     `local b = data_bag_item("..", "stackagent")`,
		"etc/stackagent/roles/web.json":                     `{"run_list": ["recipe[site]"]}`,
		"etc/stackagent/x.json":                             `{"run_list": ["recipe[site]"]}`,
	})
	for _, c := range []struct{ entry, want string }{
		{"role[../x]", `invalid role name "../x"`},
		{"site::bag", `data_bag: invalid data bag name ".."`},
	} {
		r := runCLI(t, "run-recipe", "--root", root, "--cookbooks", cb, c.entry)
		if r.code != 1 || !strings.Contains(r.out+r.err, c.want) {
			t.Errorf("run-recipe %s: want exit 1 saying %q: %+v", c.entry, c.want, r)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused run list ran")
	}
}
