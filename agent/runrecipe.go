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
	"sort"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/cookbooks"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/ohai"
	"github.com/stackagent/stackagent/recipes/resources"
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
}

func newRunRecipeCmd() *cobra.Command {
	f := &runFlags{}
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
	fl.BoolVar(&f.noEmbedded, "no-embedded-cookbooks", false, "use only site cookbooks")
	return cmd
}

// under maps a default host path into --root.
func (f *runFlags) under(p string) string {
	if f.root == "" {
		return p
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

	node, jsonRunList, err := buildNode(ctx, f, log)
	if err != nil {
		return &exitError{1, err}
	}
	var entries []string
	switch {
	case f.override != "" || len(args) > 0:
		if f.override != "" {
			entries = append(entries, f.override)
		}
		entries = append(entries, args...)
	default:
		entries = jsonRunList
	}
	if len(entries) == 0 {
		return &exitError{1, errors.New("no run list: give recipes as arguments, -o RUNLIST, or a run_list in a -j file")}
	}
	items, err := recipes.ParseRunList(entries...)
	if err != nil {
		return &exitError{1, err}
	}
	books, err := loadCookbooks(f)
	if err != nil {
		return &exitError{1, err}
	}
	reg := recipes.NewRegistry()
	resources.Register(reg)
	var events recipes.Events = recipes.NewDocFormatter(stdout)
	if f.logFormat == "json" {
		events = &recipes.JSONFormatter{W: stdout}
	}
	rep, runErr := recipes.Run(ctx, recipes.Options{
		Registry: reg, Cookbooks: books, Node: node, RunList: items,
		RolesDir:    orDefault(f.rolesDir, f.under("/etc/stackagent/roles")),
		DataBagsDir: orDefault(f.dataBagsDir, f.under("/etc/stackagent/data_bags")),
		WhyRun:      f.whyRun, Root: f.root, Events: events, Log: log,
	})
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

// buildNode gathers the node's attributes: automatic facts, attributes.d,
// then -j files. It returns the run_list of the last -j file that has one.
func buildNode(ctx context.Context, f *runFlags, log *slog.Logger) (*recipes.Node, []string, error) {
	host, _ := os.Hostname()
	node := recipes.NewNode(host)
	node.Merge(recipes.Automatic, ohai.Collect(ctx, ohai.Options{IMDSEndpoint: f.imdsEndpoint, Logger: log}))
	files, _ := filepath.Glob(filepath.Join(orDefault(f.attrsDir, f.under("/etc/stackagent/attributes.d")), "*.json"))
	sort.Strings(files)
	files = append(files, f.jsonAttrs...)
	var runList []string
	for _, file := range files {
		m, err := recipes.ReadJSONFile(file)
		if err != nil {
			return nil, nil, fmt.Errorf("attributes: %w", err)
		}
		if rl, ok := m["run_list"]; ok {
			list, ok := rl.([]any)
			if !ok {
				return nil, nil, fmt.Errorf("%s: field run_list: want a list of strings", file)
			}
			runList = runList[:0]
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					return nil, nil, fmt.Errorf("%s: field run_list[%d]: want a string", file, i)
				}
				runList = append(runList, s)
			}
			delete(m, "run_list")
		}
		node.Merge(recipes.Normal, m)
	}
	return node, runList, nil
}

// loadCookbooks loads the embedded cookbooks, then the site directories so
// that the first directory listed wins.
func loadCookbooks(f *runFlags) (*recipes.CookbookSet, error) {
	var srcs []recipes.CookbookSource
	if !f.noEmbedded {
		srcs = append(srcs, recipes.CookbookSource{FS: cookbooks.FS, Origin: "embedded"})
	}
	dirs := f.cookbookDirs
	if len(dirs) == 0 {
		def := f.under("/etc/stackagent/cookbooks")
		if _, err := os.Stat(def); err == nil {
			dirs = []string{def}
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(dirs[i]); err != nil {
			return nil, fmt.Errorf("--cookbooks: %w", err)
		}
		abs, _ := filepath.Abs(dirs[i])
		srcs = append(srcs, recipes.CookbookSource{FS: os.DirFS(abs), Origin: abs})
	}
	set, errs := recipes.LoadCookbooks(srcs...)
	if len(errs) > 0 {
		return nil, recipes.CompileErrors(errs)
	}
	return set, nil
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
