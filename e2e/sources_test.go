package e2e

// The WordPress sources the test deploys, made from Debian's wordpress
// package (/usr/share/wordpress): a .tar.gz for the first release and a
// local git repository, one tagged commit per later release. Each
// release carries two marker files the test fetches over HTTP:
// e2e-release.txt (which source and revision) and e2e-where.php (the
// path PHP runs the release from).

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	wordpressTree = "/usr/share/wordpress"
	markerFile    = "e2e-release.txt"
	wherePHP      = "e2e-where.php"
	whereSource   = "<?php echo realpath(__FILE__), \"\\n\";\n"
)

// copyTree copies src to dst, following symbolic links (Debian's tree
// links to files in /usr/share/php and /etc/wordpress, which a release
// may not point to); a link that leads nowhere is left out.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		out := filepath.Join(dst, rel)
		fi, err := os.Stat(path) // follows links
		if err != nil {
			return nil // dangling link
		}
		if fi.IsDir() {
			if d.Type()&fs.ModeSymlink != 0 {
				return nil // a linked directory: none in Debian's tree
			}
			return os.MkdirAll(out, 0o755)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// wordpressCopy copies Debian's WordPress tree into a temp dir with the
// markers, marker being e2e-release.txt's content.
func wordpressCopy(t *testing.T, marker string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wordpress")
	if err := copyTree(wordpressTree, dir); err != nil {
		t.Fatalf("copy %s: %v", wordpressTree, err)
	}
	writeFile(t, filepath.Join(dir, markerFile), marker+"\n")
	writeFile(t, filepath.Join(dir, wherePHP), whereSource)
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarball packs dir as a .tar.gz with one top-level directory
// (wordpress/, as wordpress.org's archives have; the deploy strips it).
// tar(1), not archive/tar and compress/gzip: compressing 89 MB in Go under -race takes a
// minute.
func tarball(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wordpress.tar.gz")
	cmd := exec.Command("tar", "-czf", path, "--owner=root", "--group=root", "-C", filepath.Dir(dir), filepath.Base(dir))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tar %s: %v\n%s", dir, err, out)
	}
	return path
}

// gitRepo makes dir a git repository: one commit of the tree as it is
// (tag r0), then n commits that each change only e2e-release.txt to
// "git rI" (tags r1…rN).
func gitRepo(t *testing.T, dir string, n int) {
	t.Helper()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=stackagent e2e", "-c", "user.email=e2e@stackagent.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q", "-b", "main")
	// The repository plays the git server. With git's default packing a
	// shallow fetch of WordPress costs ~7s of the server's delta search
	// and zlib (per deploy); stored objects and no delta search, ~1.5s.
	// The agent's side (fetch, checkout, release) is the same.
	git("config", "core.compression", "0")
	git("config", "pack.window", "0")
	git("add", "-A")
	git("commit", "-q", "-m", "WordPress from Debian's wordpress package")
	git("tag", "r0")
	for i := 1; i <= n; i++ {
		writeFile(t, filepath.Join(dir, markerFile), fmt.Sprintf("git r%d\n", i))
		git("commit", "-q", "-a", "-m", fmt.Sprintf("release r%d", i))
		git("tag", fmt.Sprintf("r%d", i))
	}
}
