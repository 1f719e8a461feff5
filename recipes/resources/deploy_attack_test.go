package resources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/archive/archivetest"
)

// The audit's attacks on the deploy resource, as an operator hits them:
// an app archive (or directory, or hook) whose links lead out of the
// release, shared_dirs that would follow them, a decompression bomb.

// victim makes root/victim/uploads/keep.txt, the directory the attack
// aims at, and returns a func asserting it is untouched.
func victim(t *testing.T, root string) func() {
	t.Helper()
	writeAppTree(t, filepath.Join(root, "victim"), map[string]string{"uploads/keep.txt": "keep"})
	before := treeState(t, filepath.Join(root, "victim"))
	return func() {
		t.Helper()
		if after := treeState(t, filepath.Join(root, "victim")); after != before {
			t.Fatalf("the victim outside the release changed:\n%s\n---\n%s", before, after)
		}
	}
}

// chainDepth climbs from deploy_to/releases/NAME to the test root:
// releases, app, www, srv, root.
const chainDepth = 5

// assertRefusedCleanly checks a refused deploy: the error, current still
// at first, no half-built release left.
func assertRefusedCleanly(t *testing.T, root, first string, res interface{ failed() (bool, string) }, want string) {
	t.Helper()
	failed, out := res.failed()
	if !failed || !strings.Contains(out, want) {
		t.Fatalf("deploy not refused with %q:\n%s", want, out)
	}
	if got := currentName(t, root); got != first {
		t.Fatalf("current moved to %s", got)
	}
	ents, err := os.ReadDir(filepath.Join(root, deployTo, "releases"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("releases after a refused deploy: %v, %v (want only %s)", ents, err, first)
	}
}

type convergeResult struct {
	err    error
	output string
}

func (c convergeResult) failed() (bool, string) { return c.err != nil, c.output }

func deployResult(t *testing.T, root, recipe string) convergeResult {
	t.Helper()
	res := runDeploy(t, root, deployRecipe(recipe), false)
	return convergeResult{res.Err, res.Output}
}

func archiveServer(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDeployArchiveLinkChainWithSharedDirs(t *testing.T) {
	t.Parallel()
	attack := append(archivetest.ChainEscape(chainDepth, "wp-content", "victim"), archivetest.Entry{Name: "index.php", Body: "<?php"})
	for _, format := range []string{"tar.gz", "zip"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			untouched := victim(t, root)
			good, err := archivetest.TarGz(archivetest.Entry{Name: "index.php", Body: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			bad, err := archivetest.Zip(attack...)
			if format == "tar.gz" {
				bad, err = archivetest.TarGz(attack...)
			}
			if err != nil {
				t.Fatal(err)
			}
			url := archiveServer(t, map[string][]byte{"/good": good, "/bad": bad})
			props := func(p string, b []byte) string {
				return fmt.Sprintf(`source_type = "http", repository = %q, checksum = %q, shared_dirs = {"wp-content/uploads"}`, url+p, sha(string(b)))
			}
			mustDeploy(t, root, deployRecipe(props("/good", good)), 1)
			first := currentName(t, root)
			assertRefusedCleanly(t, root, first, deployResult(t, root, props("/bad", bad)), "unsafe path")
			untouched()
		})
	}
}

func TestDeployLocalSourceLinkChain(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	untouched := victim(t, root)
	props := localApp(t, root, "v1") + `, shared_dirs = {"wp-content/uploads"}`
	mustDeploy(t, root, deployRecipe(props), 1)
	first := currentName(t, root)
	src := filepath.Join(root, "src/app")
	if err := os.RemoveAll(filepath.Join(src, "wp-content")); err != nil {
		t.Fatal(err)
	}
	for _, e := range archivetest.ChainEscape(chainDepth, "wp-content", "victim") {
		if err := os.Symlink(e.Link, filepath.Join(src, e.Name)); err != nil {
			t.Fatal(err)
		}
	}
	assertRefusedCleanly(t, root, first, deployResult(t, root, props), "unsafe path")
	untouched()
}

// A hook runs as root and can do anything; still, the linking after it
// never follows a link the hook left out of the release.
func TestDeploySharedDirsNeverFollowLinksOut(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	untouched := victim(t, root)
	props := localApp(t, root, "v1") + `, shared_dirs = {"wp-content/uploads"}`
	mustDeploy(t, root, deployRecipe(props), 1)
	first := currentName(t, root)
	writeAppTree(t, filepath.Join(root, "src/app"), map[string]string{
		"deploy/before_symlink.lua": fmt.Sprintf(`local r = shell_out("rm -rf " .. release_path .. "/wp-content && ln -s %s " .. release_path .. "/wp-content")
assert(r.exitstatus == 0, r.stderr)`, filepath.Join(root, "victim")),
	})
	res := deployResult(t, root, props)
	if ok, out := res.failed(); !ok || !strings.Contains(out, "shared_dirs wp-content/uploads") {
		t.Fatalf("a link out of the release was followed:\n%s", out)
	}
	if got := currentName(t, root); got != first {
		t.Fatalf("current moved to %s", got)
	}
	untouched()
}

func TestDeployArchiveBomb(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bomb, err := archivetest.GzipBomb("wordpress/zeros", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	good, err := archivetest.TarGz(archivetest.Entry{Name: "index.php", Body: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	url := archiveServer(t, map[string][]byte{"/good": good, "/bomb": bomb})
	mustDeploy(t, root, deployRecipe(fmt.Sprintf(`source_type = "http", repository = %q, checksum = %q`, url+"/good", sha(string(good)))), 1)
	first := currentName(t, root)
	props := fmt.Sprintf(`source_type = "http", repository = %q, checksum = %q, max_archive_size = 8 * 1024 * 1024`, url+"/bomb", sha(string(bomb)))
	assertRefusedCleanly(t, root, first, deployResult(t, root, props),
		"archive too large: more than 8388608 bytes uncompressed (raise max_archive_size or max_archive_entries on the deploy resource)")

	entries := []archivetest.Entry{{Name: "a", Body: "1"}, {Name: "b", Body: "2"}, {Name: "c", Body: "3"}}
	many, err := archivetest.TarGz(entries...)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "many.tar.gz")
	writeFile(t, file, string(many), 0o644)
	assertRefusedCleanly(t, root, first, deployResult(t, root, `source_type = "archive", repository = "/many.tar.gz", max_archive_entries = 2`), "more than 2 entries")
}

func TestDeploySourceValidation(t *testing.T) {
	t.Parallel()
	for props, want := range map[string]string{
		`source_type = "http", repository = "http://h/a.tgz"`:                       `set checksum = "<sha256 of the archive>" on the deploy resource`,
		`source_type = "http", repository = "https://h/a.tgz", checksum = "abc"`:    `checksum "abc": want a sha256 in hex`,
		`source_type = "local", repository = "/src", max_archive_size = 0`:          "max_archive_size 0: want at least 1",
		`source_type = "s3", repository = "s3://b/k.tgz", max_archive_entries = -1`: "max_archive_entries -1: want at least 1",
	} {
		res := runDeploy(t, t.TempDir(), deployRecipe(props), true)
		if res.Err == nil || !strings.Contains(res.Output, want) {
			t.Errorf("%s: %v, want %q\n%s", props, res.Err, want, res.Output)
		}
	}
}

// A git repository can hold the same chain of links: the release is
// checked whatever the source.
func TestDeployGitLinkChain(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	untouched := victim(t, root)
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	writeAppTree(t, repo, map[string]string{"index.php": "v1"})
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "v1")
	props := fmt.Sprintf(`source_type = "git", repository = %q, revision = "main", shared_dirs = {"wp-content/uploads"}`, "file://"+repo)
	mustDeploy(t, root, deployRecipe(props), 1)
	first := currentName(t, root)
	for _, e := range archivetest.ChainEscape(chainDepth, "wp-content", "victim") {
		if err := os.Symlink(e.Link, filepath.Join(repo, e.Name)); err != nil {
			t.Fatal(err)
		}
	}
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "chain")
	assertRefusedCleanly(t, root, first, deployResult(t, root, props), "unsafe path")
	untouched()
}
