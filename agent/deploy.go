package main

// stackagent deploy, rollback and releases: an app's deploy run list
// converged by hand, as the daemon does for a deploy event, and the
// releases of its deploy_to directory. See docs/deploy.md.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/internal/secrets"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes/ohai"
	"github.com/stackagent/stackagent/recipes/resources"
)

// newDeployCmds returns deploy, rollback and releases.
func newDeployCmds() []*cobra.Command {
	return []*cobra.Command{newDeployAppCmd("deploy"), newDeployAppCmd("rollback"), newReleasesCmd()}
}

// deployFlags are the flags of deploy and rollback.
type deployFlags struct {
	cfgPath   string
	root      string
	to        string
	overrides map[string]*string
}

func newDeployAppCmd(command string) *cobra.Command {
	f := &deployFlags{overrides: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   command + " APP [flags]",
		Short: "Deploy APP now: converge the deploy run list of this instance's layers, as a deploy event would",
		Long: `Deploy APP now: converge the deploy run list of this instance's layers (the
config's layers, or --layers) with stackagent.event = {type = "deploy",
app = APP, command = "deploy"}, exactly as the daemon does for a deploy
event. The recipes (deploy::php, wordpress::deploy) deploy a new release
when the app's revision changed and switch current to it atomically.

Every config key can be overridden by --KEY (dashes) or STACKAGENT_KEY.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			flags := map[string]string{}
			for k, v := range f.overrides {
				flags[k] = *v
			}
			return runDeployEvent(cmd.Context(), f, command, args[0], cmd.Flags().Changed("config"), flags, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	if command == "rollback" {
		cmd.Short = "Roll APP back: current to the previous release (or --to RELEASE), as a deploy event with command rollback would"
		cmd.Long = `Roll APP back: converge the deploy run list with stackagent.event.command =
"rollback" (and rollback_to = --to), so the app's deploy resource switches
current to the release before it, or to RELEASE, atomically, and the web
server reloads. Rolling back past the oldest kept release is an error that
changes nothing. List the releases with: stackagent releases APP.`
		cmd.Flags().StringVar(&f.to, "to", "", "the release to roll back to (a name from stackagent releases APP)")
	}
	cmd.Flags().StringVar(&f.cfgPath, "config", configPathDefault(), "agent config file")
	cmd.Flags().StringVar(&f.root, "root", "", "prefix every path the run touches with this directory")
	addConfigFlags(cmd.Flags(), f.overrides)
	return cmd
}

// runDeployEvent converges the deploy run list for APP like the daemon
// converges a deploy event.
func runDeployEvent(parent context.Context, f *deployFlags, command, app string, explicit bool, flags map[string]string, stdout, stderr io.Writer) error {
	if err := checkDeployArgs(app, f.to); err != nil {
		return &exitError{1, err}
	}
	cfg, _, err := loadConfig(f.cfgPath, explicit, os.Getenv, flags)
	if err != nil {
		return &exitError{1, err}
	}
	log, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return &exitError{1, err}
	}
	ctx, stop, sig := signalContext(parent)
	defer stop()
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return &exitError{1, fmt.Errorf("state_dir: %w", err)}
	}
	auto := ohai.Collect(ctx, ohai.Options{IMDSEndpoint: cfg.IMDSEndpoint, Logger: log})
	e := configEngine(cfg, auto, f.root, log, stdout)
	// Secret references (a database password, a deploy key) resolve as in
	// the daemon: the config's region, else the queue URL's, else the
	// instance's; credentials are looked up only when a secret is read.
	if awsCfg, err := awsconfig.Load(ctx, cfg.awsOptions(auto)); err == nil {
		e.secrets = secrets.NewFromConfig(awsCfg)
	}
	id := configIdentity(cfg, auto)
	job, err := deployJob(e, id, command, app, f.to)
	if err != nil {
		return &exitError{1, err}
	}
	start := time.Now()
	out := e.Converge(ctx, job)
	out.RunList = job.RunList
	if _, err := recordCLIRun(cfg, id, job.Event, out, start, time.Now()); err != nil {
		log.Error("keeping the run's result in state_dir/runs", "error", err)
	}
	return deployExit(out, command, app, stdout, sig)
}

// checkDeployArgs checks APP and --to against the names' grammar.
func checkDeployArgs(app, to string) error {
	if err := names.Check("APP", "app name", app); err != nil {
		return err
	}
	if to != "" {
		return names.CheckRelease("--to", to)
	}
	return nil
}

// deployJob is the deploy event of the command for app, with its run
// list from the attribute files (one read).
func deployJob(e *engine, id lifecycle.Identity, command, app, to string) (*lifecycle.Job, error) {
	ev := &lifecycle.Event{
		ID: fmt.Sprintf("cli-%s-%d", command, time.Now().UnixNano()), Type: lifecycle.TypeDeploy,
		App: app, Command: command, RollbackTo: to, Stack: id.Stack, IssuedAt: time.Now().UTC(),
	}
	attrs, err := e.baseAttributes()
	if err != nil {
		return nil, err
	}
	runList, err := lifecycle.RunList(ev, attrs, id.Layers)
	if err != nil {
		return nil, err
	}
	if len(runList) == 0 {
		return nil, fmt.Errorf("%s %s: the deploy run list of layers %v is empty", command, app, id.Layers)
	}
	return &lifecycle.Job{Event: ev, RunList: runList, Attributes: ev.NodeAttributes(id)}, nil
}

// deployExit reports a deploy's outcome: its exit status, a signal's when
// one stopped it.
func deployExit(out *lifecycle.Outcome, command, app string, stdout io.Writer, sig func() os.Signal) error {
	if out.Status == lifecycle.StatusSuccess {
		fmt.Fprintf(stdout, "stackagent: %s %s: %d/%d resources updated\n", command, app, out.Updated, out.Total)
		return nil
	}
	code := out.ExitCode
	if s := sig(); s != nil {
		code = signalExit(s)
	}
	if code == 0 {
		code = 1
	}
	if out.Err == nil {
		return &exitError{code: code}
	}
	return &exitError{code, fmt.Errorf("%w: %w", errShown, out.Err)}
}

func newReleasesCmd() *cobra.Command {
	var deployTo, root string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "releases APP [--deploy-to DIR] [--json]",
		Short: "List APP's releases (oldest first), marking current",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := names.Check("APP", "app name", args[0]); err != nil {
				return &exitError{1, err}
			}
			dir := deployTo
			if dir == "" {
				dir = "/srv/www/" + args[0]
			}
			if root != "" {
				dir = filepath.Join(root, filepath.Clean("/"+dir))
			}
			return listReleases(cmd.OutOrStdout(), dir, asJSON)
		},
	}
	cmd.Flags().StringVar(&deployTo, "deploy-to", "", "the app's deploy_to directory (default /srv/www/APP)")
	cmd.Flags().StringVar(&root, "root", "", "look under this directory (as run-recipe --root)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: a list of {name, time, revision, source, current}")
	return cmd
}

func listReleases(w io.Writer, dir string, asJSON bool) error {
	set, err := resources.OpenReleaseSet(dir)
	if err != nil {
		return &exitError{1, err}
	}
	list := set.List()
	if asJSON {
		if list == nil {
			list = []resources.Release{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		return &exitError{1, fmt.Errorf("no releases in %s: %w", dir, resources.ErrNoCurrent)}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tRELEASE\tTIME (UTC)\tREVISION\tSOURCE")
	for _, r := range list {
		mark := ""
		if r.Current {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, r.Name, r.Time.Format("2006-01-02 15:04:05"), shortRevision(r.Revision), r.Source)
	}
	if half := set.HalfBuilt(); len(half) > 0 {
		fmt.Fprintf(tw, "\t%v\thalf-built (the next deploy removes it)\t\t\n", half)
	}
	return tw.Flush()
}

func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
