package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deployHost lays out a host under a temporary root for the deploy
// commands: an agent config putting the instance in layer "testapp",
// whose deploy run list is app::deploy, a site cookbook that deploys the
// event's app from /src/app (the action from the event's command, as
// the deploy and wordpress cookbooks do), and the app's source.
func deployHost(t *testing.T) (root, config string) {
	t.Helper()
	root = t.TempDir()
	etc := filepath.Join(root, "etc/stackagent")
	writeTree(t, root, map[string]string{
		"etc/stackagent/attributes.d/layers.json":    `{"stackagent": {"layers": {"testapp": {"recipes": {"deploy": ["app::deploy"]}}}}}`,
		"etc/stackagent/cookbooks/app/metadata.json": `{"name": "app", "version": "1.0.0"}`,
		"etc/stackagent/cookbooks/app/recipes/deploy.lua": `
local ev = node.stackagent.event
deploy(ev.app) {
  source_type = "local",
  repository = "/src/app",
  keep_releases = 3,
  shared_dirs = { "uploads" },
  action = (ev.command == "rollback") and "rollback" or "deploy",
  rollback_to = ev.rollback_to,
}
`,
		"src/app/index.php": "v1",
	})
	config = filepath.Join(etc, "agent.yaml")
	writeTree(t, root, map[string]string{"etc/stackagent/agent.yaml": fmt.Sprintf(`
state_dir: %[1]s/var/lib/stackagent
cookbook_dirs: [%[2]s/cookbooks]
attributes_dir: %[2]s/attributes.d
roles_dir: %[2]s/roles
data_bags_dir: %[2]s/data_bags
layers: [testapp]
metrics_address: "off"
`, root, etc)})
	return root, config
}

func releasesJSON(t *testing.T, root string) []map[string]any {
	t.Helper()
	r := runCLI(t, "releases", "wp", "--root", root, "--json")
	if r.code != 0 {
		t.Fatalf("releases: %+v", r)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.out), &list); err != nil {
		t.Fatalf("releases --json: %v\n%s", err, r.out)
	}
	return list
}

func currentOf(t *testing.T, list []map[string]any) string {
	t.Helper()
	for _, r := range list {
		if r["current"] == true {
			return r["name"].(string)
		}
	}
	t.Fatalf("no current release in %v", list)
	return ""
}

func TestDeployRollbackReleasesCLI(t *testing.T) {
	root, config := deployHost(t)
	index := filepath.Join(root, "srv/www/wp/current/index.php")
	deploy := func(wantUpdated string, args ...string) cli {
		t.Helper()
		r := runCLI(t, append([]string{args[0], "wp", "--config", config, "--root", root}, args[1:]...)...)
		if r.code != 0 || !strings.Contains(r.out, wantUpdated+" resources updated") {
			t.Fatalf("%v: want %s updated: %+v", args, wantUpdated, r)
		}
		return r
	}
	deploy("1/1", "deploy")
	if b, err := os.ReadFile(index); err != nil || string(b) != "v1" {
		t.Fatalf("current/index.php: %q, %v", b, err)
	}
	deploy("0/1", "deploy")
	writeTree(t, root, map[string]string{"src/app/index.php": "v2"})
	deploy("1/1", "deploy")
	list := releasesJSON(t, root)
	if len(list) != 2 || currentOf(t, list) != list[1]["name"] {
		t.Fatalf("releases: %v", list)
	}
	first, second := list[0]["name"].(string), list[1]["name"].(string)

	r := runCLI(t, "releases", "wp", "--root", root)
	if r.code != 0 || !strings.Contains(r.out, "* ") || !strings.Contains(r.out, second) || !strings.Contains(r.out, first) {
		t.Fatalf("releases: %+v", r)
	}

	deploy("1/1", "rollback")
	if currentOf(t, releasesJSON(t, root)) != first {
		t.Fatal("rollback did not switch to the previous release")
	}
	if b, _ := os.ReadFile(index); string(b) != "v1" {
		t.Fatalf("after rollback index.php = %q", b)
	}
	// Past the oldest kept release: an error, nothing changed.
	r = runCLI(t, "rollback", "wp", "--config", config, "--root", root)
	if r.code != 1 || !strings.Contains(r.out+r.err, "oldest kept release") {
		t.Fatalf("rollback past the oldest: %+v", r)
	}
	if currentOf(t, releasesJSON(t, root)) != first {
		t.Fatal("a refused rollback moved current")
	}
	deploy("1/1", "rollback", "--to", second)
	if currentOf(t, releasesJSON(t, root)) != second {
		t.Fatal("rollback --to did not switch")
	}
	r = runCLI(t, "rollback", "wp", "--config", config, "--root", root, "--to", "19990101000000")
	if r.code != 1 || !strings.Contains(r.out+r.err, "no such release") {
		t.Fatalf("rollback --to unknown: %+v", r)
	}
}

func TestDeployCLIErrors(t *testing.T) {
	root, config := deployHost(t)
	r := runCLI(t, "releases", "wp", "--root", root)
	if r.code != 1 || !strings.Contains(r.err, "open releases") {
		t.Fatalf("releases before any deploy: %+v", r)
	}
	r = runCLI(t, "deploy", "wp", "--config", config, "--root", root, "--layers", "nolayer")
	if r.code != 1 || !strings.Contains(r.err, "no run list") {
		t.Fatalf("deploy in a layer without a run list: %+v", r)
	}
	r = runCLI(t, "deploy", "--config", config)
	if r.code != 1 {
		t.Fatalf("deploy without APP: %+v", r)
	}
}
