package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// gitKind is Chef's git. sync clones when the destination is missing and
// otherwise fetches and moves the checkout to the revision; checkout only
// clones; export clones and removes .git. The revision (branch, tag or
// full sha) is resolved with git ls-remote, so a checkout already at it
// is up to date and Plan never fetches (nothing changes in why-run).
// The checkout is on the local branch checkout_branch ("deploy"), as in
// Chef.
func gitKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "git", Actions: []string{"sync", "checkout", "export"}, DefaultAction: "sync",
		Doc: "check out a git repository",
		Props: []recipes.Prop{
			{Name: "destination", Type: recipes.String, NameProperty: true},
			{Name: "repository", Type: recipes.String, Required: true},
			{Name: "revision", Type: recipes.String, Default: "HEAD"},
			{Name: "remote", Type: recipes.String, Default: "origin"},
			{Name: "checkout_branch", Type: recipes.String, Default: "deploy"},
			{Name: "depth", Type: recipes.Int},
			{Name: "enable_submodules", Type: recipes.Bool},
			{Name: "user", Type: recipes.String},
			{Name: "group", Type: recipes.String},
			// ssh_key is the path of a private key for ssh:// and scp-like URLs.
			{Name: "ssh_key", Type: recipes.String},
			{Name: "environment", Type: recipes.Map},
			{Name: "timeout", Type: recipes.Number, Default: 3600.0},
		},
		Provider: recipes.ProviderFunc(planGit),
	}
}

var fullSHA = lazyre.New(`^[0-9a-f]{40}$`)

// gitRunner runs git for one resource: as its user and group, with its
// environment and ssh key.
type gitRunner struct {
	rc   *recipes.RunContext
	r    *recipes.Resource
	dest string
}

func (g gitRunner) command(dir string, args ...string) recipes.Command {
	c := newCmd("git", append([]string{"-c", "safe.directory=" + g.dest}, args...)...)
	c.Dir, c.User, c.Group = dir, g.r.Str("user"), g.r.Str("group")
	c.Env = envList(g.r.Map("environment"))
	c.Timeout = secondsProp(g.r, "timeout")
	return c
}

// checkGitProps refuses values git would take for options.
func checkGitProps(r *recipes.Resource) error {
	for _, p := range []string{"repository", "revision", "remote", "checkout_branch"} {
		if err := checkGitArg(p, r.Str(p)); err != nil {
			return err
		}
	}
	return nil
}

// run runs git with args in dir (see runGit).
func (g gitRunner) run(ctx context.Context, dir string, want []int, args ...string) (recipes.Result, error) {
	return runGit(ctx, g.rc, g.command(dir, args...), g.r.Str("ssh_key"), want)
}

func (g gitRunner) output(ctx context.Context, dir string, args ...string) (string, error) {
	res, err := g.run(ctx, dir, []int{0}, args...)
	return strings.TrimSpace(string(res.Stdout)), err
}

// resolve returns the sha the revision names in the remote repository and
// the ref to fetch it by.
func (g gitRunner) resolve(ctx context.Context) (sha, ref string, err error) {
	rev := g.r.Str("revision")
	if fullSHA().MatchString(rev) {
		return rev, rev, nil
	}
	out, err := g.output(ctx, "", "ls-remote", "--", g.r.Str("repository"), rev, rev+"^{}")
	if err != nil {
		return "", "", err
	}
	sha, ref = parseLsRemote(out, rev)
	if sha == "" {
		return "", "", fmt.Errorf("unable to resolve revision %q in repository %s", rev, g.r.Str("repository"))
	}
	return sha, ref, nil
}

// parseLsRemote picks the sha of rev from git ls-remote's output: a
// peeled tag (refs/tags/REV^{}) over the tag object, then a branch, then
// the exact ref (HEAD, refs/…).
func parseLsRemote(out, rev string) (sha, ref string) {
	refs := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if s, r, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			refs[r] = s
		}
	}
	for _, r := range []string{"refs/tags/" + rev + "^{}", "refs/tags/" + rev, "refs/heads/" + rev, rev} {
		if s, ok := refs[r]; ok {
			return s, strings.TrimSuffix(r, "^{}")
		}
	}
	return "", ""
}

func planGit(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	if err := checkGitProps(r); err != nil {
		return nil, err
	}
	dest := rc.Path(r.Str("destination"))
	g := gitRunner{rc: rc, r: r, dest: dest}
	empty, err := emptyDir(dest)
	if err != nil {
		return nil, err
	}

	if !empty && (action != "sync" || !pathExists(filepath.Join(dest, ".git"))) {
		if action == "sync" {
			return nil, fmt.Errorf("destination %s exists and is not a git repository", dest)
		}
		return nil, nil
	}
	sha, ref, err := g.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if empty {
		return g.cloneSteps(sha, ref, action), nil
	}
	head, err := g.output(ctx, dest, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	url, _ := g.output(ctx, dest, "config", "--get", "remote."+r.Str("remote")+".url")
	var steps []recipes.Step
	if url != r.Str("repository") {
		steps = append(steps, g.step(fmt.Sprintf("set remote %s to %s", r.Str("remote"), r.Str("repository")), dest,
			[]string{"remote", "add", "--", r.Str("remote"), r.Str("repository")}))
		if url != "" {
			steps[0].Apply = g.apply(dest, []string{"remote", "set-url", "--", r.Str("remote"), r.Str("repository")})
		}
	}
	if head != sha {
		steps = append(steps, g.step(fmt.Sprintf("fetch updates for %s", r.Str("remote")), dest, g.fetchArgs(ref)),
			g.step(fmt.Sprintf("checkout ref %s branch %s", sha, r.Str("checkout_branch")), dest,
				[]string{"checkout", "-q", "-f", "-B", r.Str("checkout_branch"), sha}))
		steps = append(steps, g.submoduleSteps(dest)...)
	}
	return steps, nil
}

// emptyDir reports whether dir is missing or empty.
func emptyDir(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return true, nil
	}
	return len(ents) == 0, err
}

func (g gitRunner) apply(dir string, args []string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := g.run(ctx, dir, []int{0}, args...)
		return err
	}
}

func (g gitRunner) step(desc, dir string, args []string) recipes.Step {
	return recipes.Step{Desc: desc, Apply: g.apply(dir, args)}
}

func (g gitRunner) fetchArgs(ref string) []string {
	args := []string{"fetch", "-q", g.r.Str("remote"), ref}
	if d := g.r.Int("depth"); d > 0 {
		args = append(args, "--depth", strconv.FormatInt(d, 10))
	}
	return args
}

func (g gitRunner) cloneSteps(sha, ref, action string) []recipes.Step {
	r := g.r
	clone := []string{"clone", "-q", "--no-checkout", "-o", r.Str("remote")}
	if d := r.Int("depth"); d > 0 {
		clone = append(clone, "--depth", strconv.FormatInt(d, 10), "--no-single-branch")
	}
	clone = append(clone, "--", r.Str("repository"), g.dest)
	steps := []recipes.Step{
		{Desc: fmt.Sprintf("clone from %s into %s", r.Str("repository"), r.Str("destination")), Apply: func(ctx context.Context) error {
			if err := os.MkdirAll(filepath.Dir(g.dest), 0o755); err != nil {
				return err
			}
			if err := g.apply("", clone)(ctx); err != nil {
				return err
			}
			// A shallow clone may lack a tag or an older sha: fetch it.
			if _, err := g.run(ctx, g.dest, []int{0}, "cat-file", "-e", sha+"^{commit}"); err != nil {
				return g.apply(g.dest, g.fetchArgs(ref))(ctx)
			}
			return nil
		}},
		g.step(fmt.Sprintf("checkout ref %s branch %s", sha, r.Str("checkout_branch")), g.dest,
			[]string{"checkout", "-q", "-B", r.Str("checkout_branch"), sha}),
	}
	steps = append(steps, g.submoduleSteps(g.dest)...)
	if action == "export" {
		steps = append(steps, recipes.Step{Desc: "remove " + filepath.Join(r.Str("destination"), ".git"),
			Apply: func(context.Context) error { return os.RemoveAll(filepath.Join(g.dest, ".git")) }})
	}
	return steps
}

func (g gitRunner) submoduleSteps(dir string) []recipes.Step {
	if !g.r.Bool("enable_submodules") {
		return nil
	}
	return []recipes.Step{
		g.step("synchronize submodules", dir, []string{"submodule", "sync", "-q"}),
		g.step("update submodules", dir, []string{"submodule", "update", "-q", "--init", "--recursive"}),
	}
}
