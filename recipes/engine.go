package recipes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Options configure one run of the engine. Registry, Cookbooks and Node are
// required; the rest have defaults.
type Options struct {
	Registry  *Registry
	Cookbooks *CookbookSet
	// Node carries the attributes gathered before the run: automatic facts,
	// -j JSON at normal. Attributes files add their defaults to it.
	Node *Node
	// RunList is the run list as given (recipes and roles).
	RunList []RunListItem
	// RolesDir holds role JSON files; DataBagsDir holds BAG/ITEM.json.
	RolesDir, DataBagsDir string
	// WhyRun reports what would change and changes nothing.
	WhyRun bool
	// Root, when set, is prefixed to every path a resource touches on the
	// file system, so a run can target a temporary tree unprivileged.
	Root   string
	Runner Runner
	Events Events
	Log    *slog.Logger
	HTTP   *http.Client
	// LuaTimeout bounds every call into Lua (a recipe file, a guard, a lazy
	// value, a lua_block). Default 10 minutes.
	LuaTimeout time.Duration
	// ResourceTimeout bounds one action of one resource. Default 1 hour.
	ResourceTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Secrets resolves attribute values of the form {"secret": "REF"}
	// ("ssm:/prod/wp/db_password", "secretsmanager:prod/wp#password") when
	// a recipe reads them. Resolved values are hidden everywhere the run
	// reports. Nil: such a reference is an error naming it.
	Secrets SecretResolver
	// StagingParent holds the run's staging directory for downloads
	// (RunContext.StagingDir). Default the system's temp directory.
	StagingParent string
	// Interrupt, when closed, stops the run before its next resource while
	// the running one finishes (the daemon's SIGTERM). Cancelling the
	// context instead also cancels the running resource.
	Interrupt <-chan struct{}
}

// SecretResolver resolves a secret reference to its value.
type SecretResolver interface {
	Resolve(ctx context.Context, ref string) (string, error)
}

// ErrInterrupted is the run's error when Options.Interrupt stopped it.
var ErrInterrupted = errors.New("run interrupted before its next resource")

func (o *Options) luaTimeout() time.Duration {
	if o.LuaTimeout > 0 {
		return o.LuaTimeout
	}
	return 10 * time.Minute
}

// path maps an absolute host path into the run's root.
func (o *Options) path(p string) string {
	if o.Root == "" {
		return p
	}
	return filepath.Join(o.Root, filepath.Clean("/"+p)) // never above the root
}

func (o *Options) defaults() {
	if o.Runner == nil {
		o.Runner = ExecRunner{}
	}
	if o.Events == nil {
		o.Events = nopEvents{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Minute}
	}
	if o.ResourceTimeout <= 0 {
		o.ResourceTimeout = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// RunContext is what a provider gets of the run besides its resource.
type RunContext struct {
	WhyRun bool
	Root   string
	Runner Runner
	Log    *slog.Logger
	Node   *Node
	HTTP   *http.Client
	// Now is the run's clock.
	Now func() time.Time
	// Started is when the run began (by Now): a file a resource finds
	// that is older was left by an earlier run.
	Started time.Time

	rt      *runtime
	staging *staging
	reboot  *rebootRequest
	tmpl    map[string]*compiledTemplate
	// deferred is work providers asked to run once at the end.
	deferred deferredWork
}

type rebootRequest struct {
	Reason string
	Now    bool
}

func newRunContext(opts *Options, rt *runtime) *RunContext {
	return &RunContext{WhyRun: opts.WhyRun, Root: opts.Root, Runner: opts.Runner, Log: opts.Log,
		Node: opts.Node, HTTP: opts.HTTP, Now: opts.Now, Started: opts.Now(), rt: rt}
}

// Path maps an absolute host path into the run's root (see Options.Root).
func (rc *RunContext) Path(p string) string { return rc.rt.opts.path(p) }

// CallLua runs a Lua function of the recipe (e.g. a lua_block's block) and
// returns its first result.
func (rc *RunContext) CallLua(ctx context.Context, f *LuaFunc, args ...any) (any, error) {
	return rc.rt.call(ctx, f, args...)
}

// RequestReboot records that the host needs a reboot. With now false the
// run exits 37 (reboot needed); with now true the caller has scheduled
// the reboot and the run exits 35.
func (rc *RunContext) RequestReboot(reason string, now bool) {
	if rc.reboot == nil || now {
		rc.reboot = &rebootRequest{Reason: reason, Now: now}
	}
}

// RebootPending tells whether a reboot has been requested in this run.
func (rc *RunContext) RebootPending() (reason string, now, ok bool) {
	if rc.reboot == nil {
		return "", false, false
	}
	return rc.reboot.Reason, rc.reboot.Now, true
}

// Redact hides the run's secrets (resolved secret references) in s, for
// providers that write text of their own (the log resource).
func (rc *RunContext) Redact(s string) string { return rc.rt.secretRedactor().apply(s) }

// HoldsSecret tells whether b holds a value the run knows as a secret (a
// resolved secret reference or a credential attribute, in any escaped
// form).
func (rc *RunContext) HoldsSecret(b []byte) bool {
	return len(b) > 0 && rc.rt.secretRedactor().contains(string(b))
}

// RunLuaFile runs a Lua file of the host (an app's deploy hook, e.g.
// deploy/before_symlink.lua in a release) at converge time, with the
// sandbox's globals and the given ones in scope. It cannot declare
// resources; errors name the file and line.
func (rc *RunContext) RunLuaFile(ctx context.Context, path string, globals map[string]any) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	L := rc.rt.L
	fn, err := L.Load(strings.NewReader(string(src)), path)
	if err != nil {
		return atEOF(luaError(err), string(src))
	}
	env := L.CreateTable(0, len(globals))
	for k, v := range globals {
		env.RawSetString(k, toLua(L, v))
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.G.Global)
	L.SetMetatable(env, mt)
	fn.Env = env
	_, err = rc.rt.call(ctx, &LuaFunc{fn: fn, src: Pos{File: path}})
	return err
}

// CancelReboot withdraws a reboot request.
func (rc *RunContext) CancelReboot() { rc.reboot = nil }

// CookbookFile reads a file of a cookbook's dir ("files" or "templates"),
// looking, as Chef does, in DIR/<platform>-<version>/, DIR/<platform>/,
// DIR/default/ and DIR/. It returns the content and the file's display
// name.
func (rc *RunContext) CookbookFile(cookbook, dir, source string) ([]byte, string, error) {
	cb, ok := rc.rt.books.Get(cookbook)
	if !ok {
		return nil, "", fmt.Errorf("cookbook %q: %w", cookbook, ErrNoCookbook)
	}
	if strings.Contains(source, "..") {
		return nil, "", fmt.Errorf("source %q: \"..\" is not allowed", source)
	}
	platform := rc.Node.GetString("platform")
	version := rc.Node.GetString("platform_version")
	var tried []string
	for _, sub := range []string{platform + "-" + version, platform, "default", ""} {
		if sub == "-" {
			continue
		}
		rel := path.Join(dir, sub, source)
		b, err := fs.ReadFile(cb.FS, rel)
		if err == nil {
			return b, cb.Display(rel), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, cb.Display(rel), err
		}
		tried = append(tried, cb.Display(rel))
	}
	return nil, "", fmt.Errorf("%s %q not found in cookbook %s (looked for %s): %w", strings.TrimSuffix(dir, "s"), source, cookbook, strings.Join(tried, ", "), fs.ErrNotExist)
}

// Run compiles the run list and converges it. The returned report is
// always set; its Status and ExitCode say how the run ended. The error is
// the run's failure, if any (CompileErrors for compile errors).
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.defaults()
	rep := newReport(&opts)
	rt := newRuntime(ctx, &opts)
	defer rt.close()
	opts.Events.RunStarted(rep)

	rc := newRunContext(&opts, rt)
	rc.staging = &staging{parent: opts.StagingParent}
	defer rc.staging.remove()
	recipes, err := ExpandRunList(opts.RunList, opts.RolesDir, opts.Node)
	if err == nil {
		rep.ExpandedRunList = recipes
		err = rt.compile(rc, recipes)
	}
	if err != nil {
		var ce CompileErrors
		if !errors.As(err, &ce) {
			ce = CompileErrors{err}
		}
		rt.noteCredentials()
		err = rt.secretRedactor().compileErrors(ce)
		rep.finish(opts.Now(), err, nil)
		opts.Events.RunFinished(rep)
		return rep, err
	}
	c := &converger{rt: rt, rc: rc, opts: &opts, rep: rep, delayedSeen: map[string]bool{}}
	rt.noteCredentials()
	opts.Events.Converging(len(rt.collection))
	rep.TotalResources = len(rt.collection)
	err = c.run(ctx)
	rep.finish(opts.Now(), err, rc.reboot)
	opts.Events.RunFinished(rep)
	return rep, err
}

// Compile compiles the run list without converging (stackagent validate)
// and returns the resources' IDs in order.
func Compile(ctx context.Context, opts Options) ([]*Resource, error) {
	opts.defaults()
	rt := newRuntime(ctx, &opts)
	defer rt.close()
	recipes, err := ExpandRunList(opts.RunList, opts.RolesDir, opts.Node)
	if err != nil {
		return nil, CompileErrors{err}
	}
	if err := rt.compile(newRunContext(&opts, rt), recipes); err != nil {
		return nil, err
	}
	return rt.collection, nil
}
