package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"syscall"

	"github.com/stackagent/stackagent/internal/sdnotify"
	"github.com/stackagent/stackagent/lifecycle"
)

// daemonRun is one runDaemon: what lives across config reloads.
type daemonRun struct {
	cfgPath        string
	explicit       bool
	flags          map[string]string
	stdout, stderr io.Writer
	sigs           chan os.Signal
	changed        <-chan struct{}
	tel            *daemonTelemetry
	notify         *sdnotify.Notifier
	ready          sync.Once
	started        bool // the start line is logged
	reloaded       bool // a daemon ran: a metrics endpoint that cannot move is no longer fatal
}

// runOnce runs the daemon with cfg until it ends (nil, and the error if
// any) or a reload asks for the next config.
func (r *daemonRun) runOnce(parent context.Context, cfg *Config) (*Config, error) {
	log, err := newLogger(r.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return nil, &exitError{1, err}
	}
	if !r.started {
		logStart(log, r.cfgPath, cfg)
		r.started = true
	}
	d, cleanup, err := r.start(parent, cfg, log)
	if err != nil {
		return nil, err
	}
	drain := make(chan struct{})
	d.Drain = drain
	ctx, cancel := context.WithCancel(parent)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	log.Info("daemon started", "source", sourceName(cfg), "instance", d.Identity.InstanceID, "stack", d.Identity.Stack, "layers", d.Identity.Layers)
	next, ended, err := r.waitReload(cfg, log, done, cancel, drain)
	if !ended {
		// Wait for the daemon to end (a drain lets the converge finish).
		next = r.drained(log, done, cancel, next)
	}
	cancel()
	cleanup()
	if ended && errors.Is(err, lifecycle.ErrRestart) {
		// upgrade_agent installed a new agent: become it.
		log.Info("restarting into the upgraded agent", "binary", runningBinary())
		r.notify.Reloading()
		return nil, reexec(runningBinary())
	}
	return next, err
}

// start builds the daemon of cfg with its hooks, auto heal and the
// metrics endpoint; cleanup ends what it started.
func (r *daemonRun) start(parent context.Context, cfg *Config, log *slog.Logger) (*wiredDaemon, func(), error) {
	warnings, err := checkStrictModes(cfg, r.cfgPath, log)
	if err != nil {
		return nil, nil, &exitError{1, err}
	}
	r.tel.health.SetWarnings(warnings)
	d, buildCleanup, err := buildDaemon(parent, cfg, log, r.stdout)
	if err != nil {
		return nil, nil, &exitError{1, err}
	}
	metrics := r.tel.instrument(d.Daemon, d.engine)
	r.tel.health.SetPollWait(pollWait(cfg))
	heal, stopHeal := startHeal(parent, cfg, d, r.tel, log)
	cleanup := func() { stopHeal(); buildCleanup() }
	if err := r.tel.serve(parent, cfg.MetricsAddress, log); err != nil {
		if !r.reloaded {
			cleanup()
			return nil, nil, &exitError{1, err}
		}
		log.Error("metrics and health endpoint not moved", "error", err)
	}
	r.reloaded = true
	d.setHooks(metrics, heal, notifyHook{notify: r.notify, source: sourceName(cfg), ready: &r.ready})
	return d, cleanup, nil
}

// waitReload waits for the daemon to end (ended, with its error), a
// reload (the next config; drain closed) or a stop signal (cancel).
func (r *daemonRun) waitReload(cfg *Config, log *slog.Logger, done <-chan error, cancel func(), drain chan struct{}) (next *Config, ended bool, err error) {
	for {
		why := ""
		select {
		case err := <-done:
			return nil, true, err
		case <-r.changed:
			why = "config file changed"
		case s := <-r.sigs:
			if s != syscall.SIGHUP {
				r.stopping(log, s)
				cancel()
				return nil, false, nil
			}
			why = "SIGHUP"
		}
		if c, ok := r.reloadTo(cfg, log, why); ok {
			close(drain)
			return c, false, nil
		}
	}
}

// drained waits for the daemon to end; a stop signal meanwhile still
// stops it (and there is no next config).
func (r *daemonRun) drained(log *slog.Logger, done <-chan error, cancel func(), next *Config) *Config {
	for {
		select {
		case <-done:
			return next
		case s := <-r.sigs:
			if s != syscall.SIGHUP {
				r.stopping(log, s)
				next = nil
				cancel()
			}
		}
	}
}

func (r *daemonRun) stopping(log *slog.Logger, s os.Signal) {
	log.Info("stopping", "signal", s.String())
	r.notify.Stopping()
}

// reloadTo is the new config to apply once the running converge (if any)
// has finished; an unchanged or invalid config changes nothing.
func (r *daemonRun) reloadTo(cfg *Config, log *slog.Logger, why string) (*Config, bool) {
	next, _, err := loadConfig(r.cfgPath, r.explicit, os.Getenv, r.flags)
	if err != nil {
		log.Error(why+" but the config is invalid; keeping the running config", "error", err)
		return nil, false
	}
	if _, err := checkStrictModes(next, r.cfgPath, log); err != nil {
		log.Error(why+" but strict modes refuse the new config; keeping the running config", "error", err)
		return nil, false
	}
	if reflect.DeepEqual(next, cfg) {
		log.Info(why+"; config unchanged", "file", r.cfgPath)
		return nil, false
	}
	log.Info(why+"; reloading once the running converge (if any) finishes", "file", r.cfgPath)
	r.notify.Reloading()
	return next, true
}
