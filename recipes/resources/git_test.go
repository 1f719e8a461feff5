package resources

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

func TestParseLsRemote(t *testing.T) {
	t.Parallel()
	out := "aaa\tHEAD\nbbb\trefs/heads/main\nccc\trefs/tags/v1\nddd\trefs/tags/v1^{}\neee\trefs/heads/v1\n"
	for rev, want := range map[string]string{"HEAD": "aaa HEAD", "main": "bbb refs/heads/main", "v1": "ddd refs/tags/v1", "nope": " "} {
		if sha, ref := parseLsRemote(out, rev); sha+" "+ref != want {
			t.Errorf("%s: got %s %s, want %s", rev, sha, ref, want)
		}
	}
}

// gitT runs git in dir for a test.
func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitSync clones a real local repository, follows a branch, pins a
// tag and a sha, and exports.
func TestGitSync(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	gitT(t, src, "init", "-q")
	os.WriteFile(filepath.Join(src, "index.php"), []byte("v1\n"), 0o644)
	gitT(t, src, "add", ".")
	gitT(t, src, "commit", "-q", "-m", "one")
	gitT(t, src, "tag", "-a", "v1", "-m", "release 1")
	first := gitT(t, src, "rev-parse", "HEAD")
	root := t.TempDir()
	o := recipestest.Opts{Root: root}
	recipe := func(rev string) string {
		return `git "/srv/app" { repository = "` + src + `", revision = "` + rev + `", depth = 1 }`
	}
	dest := filepath.Join(root, "srv/app")
	res := sysConverge(t, o, recipe("main"), 1)
	if gitT(t, dest, "rev-parse", "HEAD") != first || !strings.Contains(res.Output, "clone from "+src+" into /srv/app") {
		t.Fatalf("clone:\n%s", res.Output)
	}
	sysConverge(t, o, recipe("main"), 0)
	os.WriteFile(filepath.Join(src, "index.php"), []byte("v2\n"), 0o644)
	gitT(t, src, "commit", "-q", "-am", "two")
	second := gitT(t, src, "rev-parse", "HEAD")
	res = sysConverge(t, o, recipe("main"), -1)
	if b, _ := os.ReadFile(filepath.Join(dest, "index.php")); string(b) != "v2\n" || gitT(t, dest, "rev-parse", "HEAD") != second {
		t.Fatalf("sync to %s: %q\n%s", second, b, res.Output)
	}
	sysConverge(t, o, recipe("main"), 0)
	sysConverge(t, o, recipe("v1"), 1)
	if gitT(t, dest, "rev-parse", "HEAD") != first {
		t.Fatal("tag v1 not checked out")
	}
	sysConverge(t, o, recipe("v1"), 0)
	sysConverge(t, o, recipe(second), 1)
	if gitT(t, dest, "rev-parse", "HEAD") != second {
		t.Fatal("sha not checked out")
	}
	sysConverge(t, o, recipe(second), 0)
	// why-run reports and changes nothing.
	gitT(t, src, "commit", "-q", "--allow-empty", "-m", "three")
	res = sysConverge(t, recipestest.Opts{Root: root, WhyRun: true}, recipe("main"), -1)
	if gitT(t, dest, "rev-parse", "HEAD") != second || !strings.Contains(res.Output, "Would checkout ref") {
		t.Fatalf("why-run changed the checkout or said nothing:\n%s", res.Output)
	}
	exp := `git "/srv/export" { repository = "` + src + `", revision = "v1", action = "export" }`
	sysConverge(t, o, exp, 1)
	if b, _ := os.ReadFile(filepath.Join(root, "srv/export/index.php")); string(b) != "v1\n" || pathExists(filepath.Join(root, "srv/export/.git")) {
		t.Fatalf("export: %q", b)
	}
	sysConverge(t, o, exp, 0)
	res = sysConvergeErr(t, o, `git "/srv/bad" { repository = "`+src+`", revision = "no-such-branch" }`)
	if !strings.Contains(res.Report.Error, `unable to resolve revision "no-such-branch"`) {
		t.Fatalf("error %s", res.Report.Error)
	}
}
