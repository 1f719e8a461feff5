package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/stackagent/stackagent/cookbooks"
	"github.com/stackagent/stackagent/internal/hostlock"
	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/plugins"
	"github.com/stackagent/stackagent/recipes/resources"
)

// engine is what a converge needs, shared by run-recipe and the daemon:
// where cookbooks, roles, data bags and attributes are, the host-wide
// lock, the automatic attributes.
type engine struct {
	root string
	// siteDirs are site cookbook directories, the first that has a
	// cookbook wins; customDir (fetched custom cookbooks) comes after them
	// and the embedded cookbooks last.
	siteDirs    []string
	customDir   string
	noEmbedded  bool
	rolesDir    string
	dataBagsDir string
	attrsDir    string
	lockPath    string
	// stateDir and inboxDir ("": none) are the agent's own, given to the
	// recipes with the other configured paths (agentPaths).
	stateDir  string
	inboxDir  string
	automatic map[string]any
	log       *slog.Logger
	out       io.Writer // where the doc output of daemon runs goes too
	// pluginDirs hold resource-provider plugins; pluginChecksums, when
	// set, pins each plugin binary's sha256; pluginCache keeps their
	// schemas.
	pluginDirs      []string
	pluginChecksums map[string]string
	pluginCache     string
	// secrets resolves {"secret": REF} attributes (nil without AWS).
	secrets recipes.SecretResolver
	// onReport, when set, is given each daemon run's report (metrics).
	onReport func(job *lifecycle.Job, rep *recipes.Report)
	// onNode, when set, is given each daemon run's node after the run
	// (auto heal reads the services the cookbooks declare watched).
	onNode func(job *lifecycle.Job, node *recipes.Node)
	// readAttrs reads one attribute file (nil: lifecycle.ReadAttributeFile;
	// tests count the reads through it).
	readAttrs func(file string) (map[string]any, error)

	// mu guards base: the node baseAttributes read for the run list, kept
	// for the Converge that follows it, so that an event reads the
	// attribute files once.
	mu   sync.Mutex
	base *recipes.Node
}

// configEngine is the engine of a converge the config describes: the
// daemon's, deploy's and rollback's (run-recipe builds its own from its
// flags, runFlags.engine). root prefixes every path the run touches.
func configEngine(cfg *Config, auto map[string]any, root string, log *slog.Logger, out io.Writer) *engine {
	return &engine{
		root: root, siteDirs: cfg.CookbookDirs, customDir: filepath.Join(cfg.StateDir, "custom-cookbooks", "current"),
		rolesDir: cfg.RolesDir, dataBagsDir: cfg.DataBagsDir, attrsDir: cfg.AttributesDir,
		lockPath: filepath.Join(cfg.StateDir, "converge.lock"), automatic: auto, log: log, out: out,
		stateDir: cfg.StateDir,
	}
}

// configIdentity is this instance as the config and the automatic
// attributes say: no layers is the base layer; no instance id is EC2's,
// else the host name.
func configIdentity(cfg *Config, auto map[string]any) lifecycle.Identity {
	id := lifecycle.Identity{InstanceID: cfg.InstanceID, Stack: cfg.Stack, Layers: cfg.Layers}
	if len(id.Layers) == 0 {
		id.Layers = []string{lifecycle.BaseLayer}
	}
	if id.InstanceID == "" {
		id.InstanceID = instanceIDFrom(auto)
	}
	return id
}

// baseAttributes are the attributes an event's run list is built from:
// the built-in layers, then the base node (automatic facts, attributes.d).
// The node read is kept for the next Converge (the daemon's BaseAttributes
// and deploy/rollback call this right before it).
func (e *engine) baseAttributes() (map[string]any, error) {
	attrs := lifecycle.DefaultLayers()
	node, _, err := e.baseNode()
	e.mu.Lock()
	e.base = node
	e.mu.Unlock()
	if err != nil {
		return attrs, err
	}
	jsontree.Merge(attrs, node.Merged())
	return attrs, nil
}

// takeBase returns the node baseAttributes read, or reads it when there
// is none (a Converge not preceded by baseAttributes).
func (e *engine) takeBase() (*recipes.Node, error) {
	e.mu.Lock()
	node := e.base
	e.base = nil
	e.mu.Unlock()
	if node != nil {
		return node, nil
	}
	node, _, err := e.baseNode()
	return node, err
}

// baseNode gathers the node: automatic facts, then attributes.d/*.json in
// name order, then each extra file, at normal level. It returns the
// run_list of the last file that has one.
func (e *engine) baseNode(files ...string) (*recipes.Node, []string, error) {
	host, _ := os.Hostname()
	node := recipes.NewNode(host)
	node.Merge(recipes.Automatic, e.automatic)
	node.Merge(recipes.Automatic, e.agentPaths())
	all, _ := filepath.Glob(filepath.Join(e.attrsDir, "*.json"))
	sort.Strings(all)
	all = append(all, files...)
	var runList []string
	for _, file := range all {
		read := e.readAttrs
		if read == nil {
			read = lifecycle.ReadAttributeFile
		}
		m, err := read(file)
		if err != nil {
			return nil, nil, fmt.Errorf("attributes: %w", err)
		}
		if rl, ok := m["run_list"]; ok {
			list, ok := rl.([]any)
			if !ok {
				return nil, nil, fmt.Errorf("%s: field run_list: want a list of strings", file)
			}
			runList = runList[:0]
			for i, x := range list {
				s, ok := x.(string)
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

// agentPaths are the agent's configured paths as automatic attributes
// (node.stackagent.state_dir, inbox_dir, attributes_dir, cookbook_dirs,
// roles_dir, data_bags_dir, plugin_dir): stackagent::default lays out
// these, not the host defaults. Paths are as the run sees them: without
// --root, which the run adds itself.
func (e *engine) agentPaths() map[string]any {
	host := func(p string) string {
		if e.root == "" || p == "" {
			return p
		}
		if rel, err := filepath.Rel(e.root, p); err == nil && filepath.IsLocal(rel) {
			return "/" + rel
		}
		return p
	}
	sites := make([]any, len(e.siteDirs))
	for i, d := range e.siteDirs {
		sites[i] = host(d)
	}
	sa := map[string]any{
		"state_dir": host(e.stateDir), "attributes_dir": host(e.attrsDir), "cookbook_dirs": sites,
		"roles_dir": host(e.rolesDir), "data_bags_dir": host(e.dataBagsDir),
	}
	if e.inboxDir != "" {
		sa["inbox_dir"] = host(e.inboxDir)
	}
	if len(e.pluginDirs) > 0 {
		sa["plugin_dir"] = host(e.pluginDirs[0])
	}
	return map[string]any{"stackagent": sa}
}

// cookbooks loads embedded, custom and site cookbooks, in that order of
// precedence from lowest.
func (e *engine) cookbooks() (*recipes.CookbookSet, error) {
	var srcs []recipes.CookbookSource
	if !e.noEmbedded {
		srcs = append(srcs, recipes.CookbookSource{FS: cookbooks.FS, Origin: "embedded"})
	}
	if e.customDir != "" {
		if real, err := filepath.EvalSymlinks(e.customDir); err == nil {
			srcs = append(srcs, recipes.CookbookSource{FS: os.DirFS(real), Origin: real})
		}
	}
	for i := len(e.siteDirs) - 1; i >= 0; i-- {
		abs, _ := filepath.Abs(e.siteDirs[i])
		if _, err := os.Stat(abs); err != nil {
			continue // an absent site directory is no site cookbooks
		}
		srcs = append(srcs, recipes.CookbookSource{FS: os.DirFS(abs), Origin: abs})
	}
	set, errs := recipes.LoadCookbooks(srcs...)
	if len(errs) > 0 {
		return nil, recipes.CompileErrors(errs)
	}
	return set, nil
}

func newRegistry() *recipes.Registry {
	reg := recipes.NewRegistry()
	resources.Register(reg)
	return reg
}

// registry is the built-in kinds plus the plugins' kinds. The returned
// function stops the plugins started during the run. A plugin that cannot
// be read is logged and left out; the run goes on.
func (e *engine) registry() (*recipes.Registry, func()) {
	reg := newRegistry()
	if len(e.pluginDirs) == 0 {
		return reg, func() {}
	}
	found, err := plugins.Discover(e.pluginDirs, e.pluginChecksums)
	if err != nil {
		e.logger().Warn("plugins", "error", err)
	}
	if len(found) == 0 {
		return reg, func() {}
	}
	host := plugins.NewHost(found, plugins.Options{Log: e.logger(), CacheDir: e.pluginCache})
	if err := plugins.Register(reg, host); err != nil {
		e.logger().Error("plugins", "error", err)
	}
	return reg, func() { host.Close() }
}

func (e *engine) logger() *slog.Logger {
	if e.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.log
}

// lock takes the host-wide converge lock, telling w who holds it while it
// waits.
func (e *engine) lock(ctx context.Context, who string, w io.Writer) (*hostlock.Lock, error) {
	return hostlock.Acquire(ctx, e.lockPath, who, func(h hostlock.Holder) {
		fmt.Fprintf(w, "stackagent: waiting for the converge lock held by %s\n", h)
	})
}

// Converge runs a daemon job through the engine (lifecycle.Converger).
func (e *engine) Converge(ctx context.Context, job *lifecycle.Job) *lifecycle.Outcome {
	var buf bytes.Buffer
	w := io.Writer(&buf)
	if e.out != nil {
		w = io.MultiWriter(&buf, e.out)
	}
	l, out := e.lockJob(ctx, job, w)
	if out != nil {
		return out
	}
	defer l.Release()
	node, err := e.takeBase()
	if err != nil {
		return failedOutcome(err)
	}
	node.Merge(recipes.Normal, job.Attributes)
	books, err := e.cookbooks()
	if err != nil {
		return failedOutcome(err)
	}
	items, err := recipes.ParseRunList(job.RunList...)
	if err != nil {
		return failedOutcome(err)
	}
	reg, closePlugins := e.registry()
	defer closePlugins()
	rep, runErr := recipes.Run(ctx, recipes.Options{
		Registry: reg, Cookbooks: books, Node: node, RunList: items,
		RolesDir: e.rolesDir, DataBagsDir: e.dataBagsDir, Root: e.root,
		Events: recipes.NewDocFormatter(w), Log: e.log, Interrupt: job.Interrupt,
		Secrets: e.secrets,
	})
	if e.onReport != nil && rep != nil {
		e.onReport(job, rep)
	}
	if e.onNode != nil && rep != nil && rep.Status != "interrupted" {
		e.onNode(job, node)
	}
	return jobOutcome(rep, runErr, buf.String())
}

func failedOutcome(err error) *lifecycle.Outcome {
	return &lifecycle.Outcome{Status: lifecycle.StatusFailed, ExitCode: 1, Err: err, Output: err.Error()}
}

// lockJob takes the converge lock for job. Waiting for it (an ad-hoc
// run-recipe holds it) ends when the daemon is asked to stop: nothing has
// run yet, so the event is handed back like an interrupted one. Without
// the lock, the outcome says why.
func (e *engine) lockJob(ctx context.Context, job *lifecycle.Job, w io.Writer) (*hostlock.Lock, *lifecycle.Outcome) {
	lctx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	go func() {
		select {
		case <-job.Interrupt:
			stopWait()
		case <-lctx.Done():
		}
	}()
	l, err := e.lock(lctx, fmt.Sprintf("daemon %s %s", job.Event.Type, job.Event.ID), w)
	if err != nil {
		if lctx.Err() != nil && ctx.Err() == nil {
			return nil, &lifecycle.Outcome{Status: lifecycle.StatusInterrupted, Err: err}
		}
		return nil, failedOutcome(err)
	}
	return l, nil
}

// jobOutcome is a run's report as the daemon's outcome.
func jobOutcome(rep *recipes.Report, runErr error, output string) *lifecycle.Outcome {
	out := &lifecycle.Outcome{ExitCode: rep.ExitCode, Updated: rep.UpdatedResources, Total: rep.TotalResources, Output: output, Err: runErr}
	switch rep.Status {
	case "success":
		out.Status = lifecycle.StatusSuccess
	case "interrupted":
		out.Status = lifecycle.StatusInterrupted
	default:
		out.Status = lifecycle.StatusFailed
	}
	if runErr != nil && !strings.Contains(out.Output, "Error executing") && len(rep.Errors) == 0 {
		out.Output += "\n" + runErr.Error()
	}
	return out
}
