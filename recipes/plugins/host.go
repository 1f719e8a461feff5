package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"

	"github.com/stackagent/stackagent/internal/checksum"
	providerv1 "github.com/stackagent/stackagent/proto/provider/v1"
	"github.com/stackagent/stackagent/proto/sdk"
)

// Options configure a Host. Every field has a default.
type Options struct {
	// Log receives the plugins' own logs and the host's; default: discard.
	Log *slog.Logger
	// CacheDir, when set, caches each plugin's schema by its checksum, so
	// a run starts only the plugins its resources use
	// (e.g. /var/lib/stackagent/plugin-cache).
	CacheDir string
	// StartTimeout bounds a plugin's start and handshake; default 30s.
	StartTimeout time.Duration
	// CallTimeout bounds Schema, Load and Test; default 1 minute.
	CallTimeout time.Duration
	// ApplyTimeout bounds Apply; default 0: only the resource's timeout
	// (recipes.Options.ResourceTimeout) does.
	ApplyTimeout time.Duration
}

// Host runs the plugins of one agent run: each is started on first use
// (its schema, unless cached, or its first resource) and all are stopped
// by Close. It is safe for concurrent use.
type Host struct {
	opts    Options
	cache   schemaCache
	order   []string
	plugins map[string]*instance
	// beforeExec, when set (tests), runs between the check of a plugin's
	// bytes and their exec.
	beforeExec func(Plugin)
	// noMemfd (tests) takes the fallback of kernels that refuse to
	// execute memory files: a copy in a private folder.
	noMemfd bool
}

// NewHost returns a host for the plugins; none is started yet.
func NewHost(plugins []Plugin, opts Options) *Host {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Minute
	}
	h := &Host{opts: opts, cache: schemaCache{dir: opts.CacheDir}, plugins: map[string]*instance{}}
	for _, p := range plugins {
		if _, dup := h.plugins[p.Name]; dup {
			continue
		}
		h.order = append(h.order, p.Name)
		h.plugins[p.Name] = &instance{p: p, h: h}
	}
	return h
}

// Close stops every started plugin.
func (h *Host) Close() error {
	for _, name := range h.order {
		h.plugins[name].stop()
	}
	return nil
}

// Running lists the plugins that are running now (for tests and status).
func (h *Host) Running() []string {
	var out []string
	for _, name := range h.order {
		if h.plugins[name].running() {
			out = append(out, name)
		}
	}
	return out
}

// schema returns the plugin's kinds, from the cache or by asking it.
func (h *Host) schema(ctx context.Context, in *instance) ([]sdk.Kind, error) {
	if in.p.Err != nil {
		if kinds, ok := h.cache.get(in.p, true); ok {
			return kinds, nil
		}
		return nil, in.p.Err
	}
	if kinds, ok := h.cache.get(in.p, false); ok {
		return kinds, nil
	}
	var kinds []sdk.Kind
	err := in.call(ctx, "schema", h.opts.CallTimeout, func(ctx context.Context, prov sdk.Provider) error {
		var err error
		kinds, err = prov.Schema(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	pks, err := sdk.KindsToPB(kinds)
	if err == nil {
		err = h.cache.put(in.p, &providerv1.SchemaResponse{Kinds: pks})
	}
	if err != nil {
		h.opts.Log.Warn("plugin schema not cached", "plugin", in.p.Name, "error", err)
	}
	return kinds, nil
}

// instance is one plugin and, once started, its process.
type instance struct {
	p Plugin
	h *Host

	mu       sync.Mutex
	client   *plugin.Client
	prov     sdk.Provider
	stderr   *tail
	startErr error // sticky: a plugin that would not start is not retried
}

// provider starts the plugin if it is not running and returns its client.
func (in *instance) provider() (sdk.Provider, *plugin.Client, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.p.Err != nil {
		return nil, nil, in.p.Err
	}
	if in.startErr != nil {
		return nil, nil, in.startErr
	}
	if in.client != nil && !in.client.Exited() {
		return in.prov, in.client, nil
	}
	img, err := loadImage(in.p, in.h.noMemfd)
	if err != nil {
		if errors.Is(err, checksum.ErrMismatch) {
			in.startErr = err
		} else {
			in.startErr = fmt.Errorf("%w: %v", ErrStart, err)
		}
		return nil, nil, in.startErr
	}
	defer img.close() // the process has its own copy once started
	if in.h.beforeExec != nil {
		in.h.beforeExec(in.p)
	}
	in.stderr = &tail{}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{sdk.ProtocolVersion: {sdk.PluginName: &sdk.GRPCPlugin{}}},
		Cmd:              img.command(in.p),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           newHCLogger(in.h.opts.Log.With("plugin", in.p.Name)),
		StartTimeout:     in.h.opts.StartTimeout,
		Stderr:           in.stderr, // what the process writes to fd 2: logs, a panic
		SyncStderr:       in.stderr, // what the plugin writes to os.Stderr
	}
	if in.p.Verified { // the sealed copy, checked again by go-plugin
		sum, _ := hex.DecodeString(in.p.SHA256)
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	client := plugin.NewClient(cfg)
	raw, err := dispense(client)
	if err != nil {
		client.Kill()
		in.startErr = fmt.Errorf("%w: %v%s", ErrStart, err, in.stderr.suffix())
		return nil, nil, in.startErr
	}
	in.client, in.prov = client, raw
	return raw, client, nil
}

func dispense(c *plugin.Client) (sdk.Provider, error) {
	rpc, err := c.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	prov, ok := raw.(sdk.Provider)
	if !ok {
		return nil, fmt.Errorf("plugin dispensed a %T", raw)
	}
	return prov, nil
}

// call runs one call to the plugin under timeout (0: none), turning a
// crash or a hang into a clear error and stopping a hung plugin. The
// plugin is started first if need be; one that crashed is started again
// for its next resource.
func (in *instance) call(ctx context.Context, op string, timeout time.Duration, f func(context.Context, sdk.Provider) error) error {
	prov, client, err := in.provider()
	if err != nil {
		return in.wrap(err)
	}
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	err = f(cctx, prov)
	if err == nil {
		return nil
	}
	var ce *sdk.CallError
	isCall := errors.As(err, &ce)
	switch {
	case ctx.Err() != nil:
		return in.wrap(fmt.Errorf("%s stopped: %w", op, ctx.Err()))
	case cctx.Err() != nil, timeout > 0 && isCall && ce.Code == codes.DeadlineExceeded:
		// The plugin's side may report the deadline (RST_STREAM) a moment
		// before this side's timer fires: the same hang.
		in.kill(client)
		return in.wrap(fmt.Errorf("%w: no answer to %s within %s; the plugin was stopped", ErrHung, op, timeout))
	case isCall && ce.Code == codes.Unavailable, client.Exited():
		waitExit(client, time.Second)
		time.Sleep(50 * time.Millisecond) // let go-plugin copy its last stderr lines
		in.kill(client)
		return in.wrap(fmt.Errorf("%w during %s (%s)%s", ErrCrashed, op, ce.Msg, in.stderr.suffix()))
	}
	return in.wrap(err)
}

func waitExit(c *plugin.Client, d time.Duration) {
	for end := time.Now().Add(d); !c.Exited() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}

func (in *instance) wrap(err error) error {
	return &Error{Plugin: in.p.Name, Path: in.p.Path, Err: err}
}

// kill stops the process of client if it is still the current one.
func (in *instance) kill(client *plugin.Client) {
	client.Kill()
	in.mu.Lock()
	if in.client == client {
		in.client, in.prov = nil, nil
	}
	in.mu.Unlock()
}

func (in *instance) stop() {
	in.mu.Lock()
	c := in.client
	in.client, in.prov = nil, nil
	in.mu.Unlock()
	if c != nil {
		c.Kill()
	}
}

func (in *instance) running() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.client != nil && !in.client.Exited()
}

// Error is a plugin's failure, naming it.
type Error struct {
	Plugin string
	Path   string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("plugin %s (%s): %v", e.Plugin, e.Path, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// tail keeps the last lines a plugin wrote to stderr, for crash reports.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = t.buf[len(t.buf)-tailMax:]
	}
	return len(p), nil
}

// suffix is "; last output: …" or "".
func (t *tail) suffix() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	var lines []string // the raw lines: JSON ones are logs, already logged
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	for i := len(lines) - 1; i >= 0; i-- { // a Go panic: its message and where
		if strings.HasPrefix(lines[i], "panic: ") || strings.HasPrefix(lines[i], "fatal error: ") {
			lines = lines[i:min(i+4, len(lines))]
			break
		}
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "; last output: " + strings.Join(lines, " | ")
}
