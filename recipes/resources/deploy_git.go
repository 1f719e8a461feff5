package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// deployGit runs git for a deploy resource: no prompts, only known
// transports, its ssh key (see sshKeyEnv).
type deployGit struct {
	rc *recipes.RunContext
	r  *recipes.Resource
}

func (g deployGit) run(ctx context.Context, dir string, args ...string) (string, error) {
	c := newCmd("git", args...)
	c.Dir = dir
	res, err := runGit(ctx, g.rc, c, g.r.Str("ssh_key"), []int{0})
	return strings.TrimSpace(string(res.Stdout)), err
}

// resolveGit finds the commit the revision names on the remote (git
// ls-remote: nothing is fetched); a full sha is taken as it is.
func resolveGit(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (*resolvedSource, error) {
	g := deployGit{rc: rc, r: r}
	repo, rev := r.Str("repository"), r.Str("revision")
	if rev == "" {
		rev = "HEAD"
	}
	for p, v := range map[string]string{"repository": repo, "revision": rev} {
		if err := checkGitArg(p, v); err != nil {
			return nil, err
		}
	}
	sha := strings.ToLower(rev)
	if !fullSHA().MatchString(sha) {
		out, err := g.run(ctx, "", "ls-remote", "--", repo, rev, rev+"^{}")
		if err != nil {
			return nil, fmt.Errorf("resolve revision %q of %s: %w", rev, redactURLString(repo), err)
		}
		if sha, _ = parseLsRemote(out, rev); sha == "" {
			return nil, fmt.Errorf("revision %q not found in repository %s", rev, redactURLString(repo))
		}
	}
	return &resolvedSource{revision: sha, desc: "git " + redactURLString(repo) + " " + rev,
		fill: func(ctx context.Context, dir string) error { return g.checkout(ctx, repo, sha, dir) }}, nil
}

// checkout puts commit sha of repo into dir (a release holding only its
// marker): a shallow fetch of that commit (or, when the server refuses,
// of its branches and tags), submodules, then .git is removed.
func (g deployGit) checkout(ctx context.Context, repo, sha, dir string) error {
	if _, err := g.run(ctx, "", "init", "--quiet", "--", dir); err != nil {
		return err
	}
	if _, err := g.run(ctx, dir, "remote", "add", "--", "origin", repo); err != nil {
		return err
	}
	if _, err := g.run(ctx, dir, "fetch", "--quiet", "--depth", "1", "origin", sha); err != nil {
		g.rc.Log.Info("deploy: shallow fetch of a commit refused, fetching branches and tags", "err", err)
		if _, err := g.run(ctx, dir, "fetch", "--quiet", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"); err != nil {
			return err
		}
	}
	if _, err := g.run(ctx, dir, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha); err != nil {
		return fmt.Errorf("check out %s: %w", sha, err)
	}
	if pathExists(filepath.Join(dir, ".gitmodules")) {
		if _, err := g.run(ctx, dir, "submodule", "update", "--quiet", "--init", "--recursive", "--depth", "1"); err != nil {
			return err
		}
	}
	return os.RemoveAll(filepath.Join(dir, ".git"))
}
