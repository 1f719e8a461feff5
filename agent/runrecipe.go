package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/secrets"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/ohai"
)

// runFlags are run-recipe's flags, after chef-solo's.
type runFlags struct {
	jsonAttrs    []string
	override     string
	whyRun       bool
	cookbookDirs []string
	rolesDir     string
	dataBagsDir  string
	attrsDir     string
	logFormat    string
	logLevel     string
	report       string
	root         string
	noEmbedded   bool
	imdsEndpoint string
	stateDir     string
	watch        bool
	pluginDir    string
	// layout places the default paths when there is no --root: the
	// host's as root, the user's otherwise.
	layout layout
}

func newRunRecipeCmd() *cobra.Command {
	f := &runFlags{layout: processLayout()}
	cmd := &cobra.Command{
		Use:   "run-recipe [flags] [RECIPE...]",
		Short: "Converge this host with recipes, chef-solo style",
		Long: `Converge this host with the given recipes (recipe[cb::r], cb::r, cb, role[name]).

The run list is -o when given, else the RECIPE arguments, else the run_list
key of the -j JSON files. Attributes: /etc/stackagent/attributes.d/*.json
then each -j file, in order, at normal precedence.

Exit codes (Chef RFC 062): 0 success, 1 failure, 2 SIGINT, 3 SIGTERM,
35 reboot scheduled, 37 reboot needed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecipe(cmd.Context(), f, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.jsonAttrs, "json-attributes", "j", nil, "JSON attributes file, merged at normal level (repeatable; its run_list key is used when no recipes are given)")
	fl.StringVarP(&f.override, "override-runlist", "o", "", "replace the run list (comma-separated)")
	fl.BoolVarP(&f.whyRun, "why-run", "W", false, "report what would change and change nothing")
	fl.StringArrayVar(&f.cookbookDirs, "cookbooks", nil, "site cookbook directory (repeatable; the first that has a cookbook wins; all win over embedded ones) (default /etc/stackagent/cookbooks)")
	fl.StringVar(&f.rolesDir, "roles", "", "directory of role JSON files (default /etc/stackagent/roles)")
	fl.StringVar(&f.dataBagsDir, "data-bags", "", "directory of data bags, BAG/ITEM.json (default /etc/stackagent/data_bags)")
	fl.StringVar(&f.attrsDir, "attributes-dir", "", "directory of *.json merged at normal level before -j (default /etc/stackagent/attributes.d)")
	fl.StringVar(&f.logFormat, "log-format", "doc", "output format: doc or json")
	fl.StringVarP(&f.logLevel, "log-level", "l", "info", "log level: debug, info, warn, error")
	fl.StringVar(&f.report, "report", "", "write the machine-readable run report (JSON) to this file")
	fl.StringVar(&f.root, "root", "", "prefix every path the run touches (and the default config paths) with this directory")
	fl.StringVar(&f.imdsEndpoint, "imds-endpoint", "", "query EC2 instance metadata (IMDSv2) here, e.g. http://127.0.0.1:1338 (default: only on EC2)")
	fl.StringVar(&f.stateDir, "state-dir", "", "the agent's state directory: converge lock, fetched custom cookbooks (default /var/lib/stackagent; as a normal user ~/.local/state/stackagent)")
	fl.StringVar(&f.pluginDir, "plugin-dir", "", "directory of resource-provider plugins (default /usr/lib/stackagent/plugins)")
	fl.BoolVar(&f.watch, "watch", false, "converge again whenever a file of the site cookbooks changes (for cookbook authors)")
	fl.BoolVar(&f.noEmbedded, "no-embedded-cookbooks", false, "use only site cookbooks")
	return cmd
}

// under maps a default host path into --root, else into the layout.
func (f *runFlags) under(p string) string {
	if f.root == "" {
		return f.layout.path(p)
	}
	return filepath.Join(f.root, p)
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func runRecipe(parent context.Context, f *runFlags, args []string, stdout, stderr io.Writer) error {
	if f.logFormat != "doc" && f.logFormat != "json" {
		return &exitError{1, fmt.Errorf("--log-format %q: want doc or json", f.logFormat)}
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return &exitError{1, err}
	}
	ctx, stop, sig := signalContext(parent)
	defer stop()
	if !f.watch {
		return runRecipeOnce(ctx, f, args, stdout, stderr, log, sig)
	}
	// --watch: converge, then again each time a cookbook file changes,
	// until interrupted.
	dirs := f.cookbookDirs
	if len(dirs) == 0 {
		dirs = []string{f.under("/etc/stackagent/cookbooks")}
	}
	changed, stopWatch := newFileWatch(log).tree(dirs)
	defer stopWatch()
	for {
		err := runRecipeOnce(ctx, f, args, stdout, stderr, log, sig)
		if ctx.Err() != nil {
			return err
		}
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || !ee.quiet() {
				fmt.Fprintf(stderr, "stackagent: %v\n", err)
			}
		}
		fmt.Fprintf(stderr, "stackagent: watching %s for changes (Ctrl-C to stop)\n", strings.Join(dirs, ", "))
		select {
		case <-ctx.Done():
			return &exitError{code: signalExit(sig())}
		case <-changed:
			fmt.Fprintln(stderr, "stackagent: cookbooks changed; converging again")
		}
	}
}

// runRecipeOnce converges the run list once, under the converge lock
// unless why-run.
func runRecipeOnce(ctx context.Context, f *runFlags, args []string, stdout, stderr io.Writer, log *slog.Logger, sig func() os.Signal) error {
	for _, d := range f.cookbookDirs {
		if _, err := os.Stat(d); err != nil {
			return &exitError{1, fmt.Errorf("--cookbooks: %w", err)}
		}
	}
	e := f.engine(ctx, log)
	node, jsonRunList, err := e.baseNode(f.jsonAttrs...)
	if err != nil {
		return &exitError{1, err}
	}
	entries, items, err := f.runList(args, jsonRunList)
	if err != nil {
		return &exitError{1, err}
	}
	books, err := e.cookbooks()
	if err != nil {
		return &exitError{1, err}
	}
	if !f.whyRun {
		l, err := e.lock(ctx, "run-recipe "+strings.Join(entries, " "), stderr)
		if err != nil {
			return &exitError{1, err}
		}
		defer l.Release()
	}
	var events recipes.Events = recipes.NewDocFormatter(stdout)
	if f.logFormat == "json" {
		events = &recipes.JSONFormatter{W: stdout}
	}
	reg, closePlugins := e.registry()
	defer closePlugins()
	rep, runErr := recipes.Run(ctx, recipes.Options{
		Registry: reg, Cookbooks: books, Node: node, RunList: items,
		RolesDir: e.rolesDir, DataBagsDir: e.dataBagsDir, Secrets: e.secrets,
		WhyRun: f.whyRun, Root: f.root, Events: events, Log: log,
	})
	return f.runExit(rep, runErr, stderr, sig)
}

// runList is the run list of the arguments and -o, else of the -j files.
func (f *runFlags) runList(args, jsonRunList []string) ([]string, []recipes.RunListItem, error) {
	var entries []string
	if f.override != "" {
		entries = append(entries, f.override)
	}
	entries = append(entries, args...)
	if len(entries) == 0 {
		entries = jsonRunList
	}
	if len(entries) == 0 {
		return nil, nil, errors.New("no run list: give recipes as arguments, -o RUNLIST, or a run_list in a -j file")
	}
	items, err := recipes.ParseRunList(entries...)
	return entries, items, err
}

// runExit writes the report (--report) and turns the run into the exit
// status: a signal's when one interrupted it.
func (f *runFlags) runExit(rep *recipes.Report, runErr error, stderr io.Writer, sig func() os.Signal) error {
	if s := sig(); s != nil && rep.Status == "interrupted" {
		rep.ExitCode = signalExit(s)
	}
	if f.report != "" {
		if err := rep.WriteFile(f.report); err != nil {
			fmt.Fprintf(stderr, "stackagent: write report: %v\n", err)
		}
	}
	if rep.ExitCode != 0 {
		if runErr == nil {
			return &exitError{code: rep.ExitCode}
		}
		return &exitError{rep.ExitCode, fmt.Errorf("%w: %w", errShown, runErr)}
	}
	return nil
}

// engine builds the converge engine's settings from the flags; default
// paths are under --root.
func (f *runFlags) engine(ctx context.Context, log *slog.Logger) *engine {
	sites := f.cookbookDirs
	if len(sites) == 0 {
		sites = []string{f.under("/etc/stackagent/cookbooks")}
	}
	state := orDefault(f.stateDir, f.under("/var/lib/stackagent"))
	auto := ohai.Collect(ctx, ohai.Options{IMDSEndpoint: f.imdsEndpoint, Logger: log})
	var sr recipes.SecretResolver
	if awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{Instance: awsconfig.InstanceRegion(auto)}); err == nil {
		sr = secrets.NewFromConfig(awsCfg) // credentials are looked up only when a secret is read
	}
	return &engine{
		secrets:     sr,
		pluginDirs:  []string{orDefault(f.pluginDir, f.under("/usr/lib/stackagent/plugins"))},
		pluginCache: filepath.Join(state, "plugin-cache"),
		root:        f.root, siteDirs: sites, noEmbedded: f.noEmbedded,
		customDir:   filepath.Join(state, "custom-cookbooks", "current"),
		rolesDir:    orDefault(f.rolesDir, f.under("/etc/stackagent/roles")),
		dataBagsDir: orDefault(f.dataBagsDir, f.under("/etc/stackagent/data_bags")),
		attrsDir:    orDefault(f.attrsDir, f.under("/etc/stackagent/attributes.d")),
		lockPath:    filepath.Join(state, "converge.lock"),
		stateDir:    state,
		automatic:   auto,
		log:         log,
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// signalContext cancels on SIGINT or SIGTERM and tells which came. A second
// signal exits at once.
func signalContext(parent context.Context) (context.Context, func(), func() os.Signal) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	got := make(chan os.Signal, 1)
	go func() {
		s, ok := <-ch
		if !ok {
			return
		}
		got <- s
		cancel()
		if s2, ok := <-ch; ok {
			os.Exit(signalExit(s2))
		}
	}()
	var seen os.Signal
	which := func() os.Signal {
		if seen == nil {
			select {
			case seen = <-got:
			default:
			}
		}
		return seen
	}
	return ctx, func() { signal.Stop(ch); close(ch); cancel() }, which
}

func signalExit(s os.Signal) int {
	if s == syscall.SIGTERM {
		return recipes.ExitSIGTERM
	}
	return recipes.ExitSIGINT
}

// The secrets resolver is the engine's SecretResolver; the check lives
// here, where both are known, so internal/secrets need not import the
// engine.
var _ recipes.SecretResolver = (*secrets.Resolver)(nil)
