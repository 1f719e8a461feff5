package resources

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// deployKind is Chef's and OpsWorks' deploy: an application deployed as
// timestamped releases under deploy_to (see releases.go for the layout).
// deploy builds releases/<UTC time> completely (files from git, an http or
// s3 archive, a local archive or directory; the app's before_migrate and
// before_symlink hooks; shared dirs and symlinks), switches current to it
// with one rename, runs before_restart, prunes releases beyond
// keep_releases and runs after_restart last: the resource's notifications
// (reload apache2…) fire after the whole action, so after_restart runs
// before them. A revision equal to current's is up to date (force_deploy
// makes a new release anyway). rollback switches current back; undeploy
// removes all but shared/.
func deployKind() *recipes.Kind {
	p := &deployProvider{s3: defaultS3}
	return &recipes.Kind{
		Name: "deploy", Actions: []string{"deploy", "force_deploy", "rollback", "undeploy"}, DefaultAction: "deploy",
		Doc: "deploy an application as releases with an atomically switched current symlink",
		Props: []recipes.Prop{
			{Name: "app", Type: recipes.String, NameProperty: true},
			// deploy_to defaults to /srv/www/<app>.
			{Name: "deploy_to", Type: recipes.String},
			{Name: "source_type", Type: recipes.String, Default: "git", OneOf: []string{"git", "s3", "http", "archive", "local"}},
			{Name: "repository", Type: recipes.String},
			{Name: "revision", Type: recipes.String, Default: "HEAD"},
			// ssh_key is a private key's path, or its text (OpsWorks').
			{Name: "ssh_key", Type: recipes.String, Sensitive: true},
			// checksum is the archive's sha256 (hex); required for a plain
			// http:// repository.
			{Name: "checksum", Type: recipes.String},
			// max_archive_size and max_archive_entries bound an archive,
			// downloaded and uncompressed (0: 1 GiB and 100,000).
			{Name: "max_archive_size", Type: recipes.Int},
			{Name: "max_archive_entries", Type: recipes.Int},
			{Name: "keep_releases", Type: recipes.Int, Default: int64(5)},
			{Name: "shared_dirs", Type: recipes.StringList},
			{Name: "symlinks", Type: recipes.Map},
			{Name: "purge_before_symlink", Type: recipes.StringList},
			{Name: "create_dirs_before_symlink", Type: recipes.StringList},
			{Name: "owner", Type: recipes.String, Public: true},
			{Name: "group", Type: recipes.String, Public: true},
			{Name: "environment", Type: recipes.Map},
			{Name: "rollback_to", Type: recipes.String},
			{Name: "purge_shared", Type: recipes.Bool},
		},
		Provider: p,
		Validate: validateDeploy,
	}
}

// deployProvider plans deploy resources; s3 makes the client s3 sources
// are read with.
type deployProvider struct {
	s3 func(ctx context.Context, region string) (S3GetAPI, error)
}

var _ recipes.Provider = (*deployProvider)(nil)

// validateDeploy checks at compile time what the properties alone cannot.
func validateDeploy(_ *recipes.RunContext, r *recipes.Resource) error {
	if k := r.Get("keep_releases"); k != nil && r.Int("keep_releases") < 1 {
		return fmt.Errorf("keep_releases %d: want at least 1", r.Int("keep_releases"))
	}
	if err := validateSource(r); err != nil {
		return err
	}
	for _, prop := range []string{"shared_dirs", "purge_before_symlink", "create_dirs_before_symlink"} {
		for _, p := range r.Strings(prop) {
			if err := checkRelPath(prop, p); err != nil {
				return err
			}
		}
	}
	for from, to := range r.Map("symlinks") {
		if err := checkRelPath("symlinks", from); err != nil {
			return err
		}
		s, ok := to.(string)
		if !ok {
			return fmt.Errorf("symlinks[%q]: want a release-relative path", from)
		}
		if err := checkRelPath("symlinks", s); err != nil {
			return err
		}
	}
	return nil
}

// checkRelPath refuses an empty, absolute or climbing path.
func checkRelPath(prop, p string) error {
	clean := filepath.Clean(p)
	if p == "" || filepath.IsAbs(p) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%s: %q must be a relative path inside the release", prop, p)
	}
	return nil
}

// deployment is one deploy resource's plan: where, and as whom.
type deployment struct {
	rc       *recipes.RunContext
	r        *recipes.Resource
	dir      string // deploy_to on the host
	display  string // deploy_to as declared
	uid, gid int    // -1: leave alone
}

func (p *deployProvider) Plan(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	d, err := newDeployment(rc, r)
	if err != nil {
		return nil, err
	}
	switch action {
	case "deploy", "force_deploy":
		return p.planDeploy(ctx, d, action == "force_deploy")
	case "rollback":
		return d.planRollback()
	case "undeploy":
		return d.planUndeploy()
	}
	return nil, fmt.Errorf("unknown action %q", action)
}

func newDeployment(rc *recipes.RunContext, r *recipes.Resource) (*deployment, error) {
	display := r.Str("deploy_to")
	if display == "" {
		display = "/srv/www/" + r.Str("app")
	}
	dir, err := hostPath(rc, display)
	if err != nil {
		return nil, fmt.Errorf("deploy_to: %w", err)
	}
	a, err := resolveAttrs(r)
	if err != nil {
		return nil, err
	}
	return &deployment{rc: rc, r: r, dir: dir, display: display, uid: a.uid, gid: a.gid}, nil
}

// set opens the release set; nil when deploy_to does not exist yet.
func (d *deployment) set() *ReleaseSet {
	s, err := OpenReleaseSet(d.dir)
	if err != nil {
		return nil
	}
	return s
}

func (p *deployProvider) planDeploy(ctx context.Context, d *deployment, force bool) ([]recipes.Step, error) {
	set := d.set()
	var cur Release
	var names []string
	var steps []recipes.Step
	if set != nil {
		cur, _ = set.Current()
		for _, rel := range set.List() {
			names = append(names, rel.Name)
		}
		if step, ok := leftoversStep(set); ok {
			steps = append(steps, step)
		}
	}
	known := cur.Revision
	if force {
		known = ""
	}
	src, err := p.resolveSource(ctx, d.rc, d.r, known)
	if err != nil {
		return nil, err
	}
	keep := int(d.r.Int("keep_releases"))
	if !force && cur.Name != "" && src.revision == cur.Revision {
		if old := pruneNames(names, cur.Name, keep); len(old) > 0 {
			steps = append(steps, d.pruneStep(old, keep))
		}
		return steps, nil
	}
	b := &build{d: d, src: src}
	from := "nothing"
	if cur.Name != "" {
		from = "release " + cur.Name
	}
	steps = append(steps,
		recipes.Step{Desc: fmt.Sprintf("build a new release of %s (revision %s) in %s/releases", src.desc, shortRev(src.revision), d.display), Apply: b.build},
		recipes.Step{Desc: fmt.Sprintf("switch %s/current from %s to the new release", d.display, from), Apply: b.switchCurrent},
	)
	// The new release will be the newest and current; cur the one before.
	if old := pruneNames(append(slices.Clone(names), "99999999999999"), "99999999999999", keep); len(old) > 0 {
		steps = append(steps, d.pruneStep(old, keep))
	}
	last := &steps[len(steps)-1]
	apply := last.Apply
	last.Apply = func(ctx context.Context) error {
		if err := apply(ctx); err != nil {
			return err
		}
		return b.hook(ctx, "after_restart")
	}
	return steps, nil
}

// leftoversStep removes the half-built releases and what else an
// interrupted deploy left; ok is false when there is nothing.
func leftoversStep(set *ReleaseSet) (step recipes.Step, ok bool) {
	half, left := set.HalfBuilt(), set.leftovers()
	if len(half)+len(left) == 0 {
		return recipes.Step{}, false
	}
	what := fmt.Sprintf("half-built release %s", strings.Join(half, ", "))
	if len(half) == 0 {
		what = fmt.Sprintf("what an interrupted deploy left (%d)", len(left))
	}
	return recipes.Step{
		Desc:  "remove " + what,
		Apply: func(context.Context) error { _, err := set.RemoveHalfBuilt(); return err },
	}, true
}

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func (d *deployment) pruneStep(old []string, keep int) recipes.Step {
	return recipes.Step{
		Desc: fmt.Sprintf("remove old release %s (keep_releases %d)", strings.Join(old, ", "), keep),
		Apply: func(context.Context) error {
			set, err := OpenReleaseSet(d.dir)
			if err != nil {
				return err
			}
			_, err = set.Prune(keep)
			return err
		},
	}
}
