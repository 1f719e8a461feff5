package resources

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestGitSSHKeyInjection is the audit's attack: an ssh_key of
// $(touch …) ran the command through GIT_SSH_COMMAND, in why-run too.
// The git and deploy resources now refuse it before running anything.
func TestGitSSHKeyInjection(t *testing.T) {
	t.Parallel()
	for _, whyRun := range []bool{false, true} {
		for _, kind := range []string{"git", "deploy"} {
			t.Run(fmt.Sprintf("%s/whyrun=%v", kind, whyRun), func(t *testing.T) {
				t.Parallel()
				marker := filepath.Join(t.TempDir(), "pwned")
				key := "/keys/$(touch " + marker + ")"
				var res recipestest.Result
				if kind == "git" {
					res = recipestest.Converge(t, sysRegistry(), map[string]string{"test/recipes/default.lua": fmt.Sprintf(
						`git "/srv/app" { repository = "ssh://git@127.0.0.1:1/app.git", ssh_key = %q }`, key)},
						recipestest.Opts{Root: t.TempDir(), WhyRun: whyRun})
				} else {
					res = runDeploy(t, t.TempDir(), deployRecipe(fmt.Sprintf(
						`source_type = "git", repository = "ssh://git@127.0.0.1:1/app.git", revision = "main", ssh_key = %q`, key)), whyRun)
				}
				// why-run reports a plan error as "cannot tell" and goes on.
				if (res.Err == nil && !whyRun) || !strings.Contains(res.Output, "ssh_key: open") {
					t.Fatalf("want an ssh_key error: %v\n%s", res.Err, res.Output)
				}
				if _, err := os.Stat(marker); err == nil {
					t.Fatalf("the ssh_key ran a command\n%s", res.Output)
				}
			})
		}
	}
}

// TestGitSSHKeyFile runs git with a fake ssh (on the resource's PATH)
// that records how it was called: a key file whose path holds shell
// syntax reaches ssh as a private 0600 copy at a path the agent made,
// nothing in the path runs, and the copy is gone after the run.
func TestGitSSHKeyFile(t *testing.T) {
	t.Parallel()
	root, bin, work := t.TempDir(), t.TempDir(), t.TempDir()
	marker := filepath.Join(work, "pwned")
	keyDir := filepath.Join(root, "keys", "$(touch "+marker+")")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	keyText := "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n"
	if err := os.WriteFile(filepath.Join(keyDir, "id"), []byte(keyText), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(work, "ssh.log")
	fake := "#!/bin/sh\n" +
		`while [ $# -gt 0 ]; do if [ "$1" = -i ]; then k=$2; fi; shift; done` + "\n" +
		`{ echo "key=$k"; stat -c 'mode=%a' "$k"; cat "$k"; } >` + log + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	recipe := fmt.Sprintf(`git "/srv/app" { repository = "ssh://git@example.invalid/app.git",
  ssh_key = %q, environment = { PATH = %q } }`, "/keys/$(touch "+marker+")/id", bin+":"+os.Getenv("PATH"))
	res := recipestest.Converge(t, sysRegistry(), map[string]string{"test/recipes/default.lua": recipe},
		recipestest.Opts{Root: root, WhyRun: true})
	if !strings.Contains(res.Output, "cannot tell in why-run") {
		t.Fatalf("fake ssh fails, the plan must too\n%s", res.Output)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the key path ran a command")
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("ssh not run: %v\n%s", err, res.Output)
	}
	got := string(b)
	key, _, _ := strings.Cut(strings.TrimPrefix(got, "key="), "\n")
	if !strings.Contains(got, "mode=600\n"+keyText) || !strings.Contains(key, "stackagent-ssh-") {
		t.Fatalf("ssh saw:\n%s", got)
	}
	if _, err := os.Stat(filepath.Dir(key)); !os.IsNotExist(err) {
		t.Fatalf("key copy %s left behind (%v)", key, err)
	}
}

// TestGitOptionInjection: a repository or remote that git would read as
// an option (--upload-pack=…) is refused before git runs.
func TestGitOptionInjection(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "pwned")
	for _, props := range []string{
		fmt.Sprintf(`repository = "--upload-pack=touch %s"`, marker),
		fmt.Sprintf(`repository = "/tmp/x", remote = "--upload-pack=touch %s"`, marker),
		`repository = "ext::sh -c touch% ` + marker + `"`,
	} {
		res := recipestest.Converge(t, sysRegistry(), map[string]string{"test/recipes/default.lua": `git "/srv/app" { ` + props + ` }`},
			recipestest.Opts{Root: t.TempDir()})
		if res.Err == nil {
			t.Fatalf("%s: accepted\n%s", props, res.Output)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: ran a command", props)
		}
	}
}

// sysRegistry is a registry of every built-in kind.
func sysRegistry() *recipes.Registry {
	reg := recipes.NewRegistry()
	Register(reg)
	return reg
}
