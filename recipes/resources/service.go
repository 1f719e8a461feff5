package resources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/procstatus"
	"github.com/stackagent/stackagent/recipes"
)

// serviceKind is Chef's service. The init system is systemd when
// /run/systemd/system exists and PID 1 is systemd; otherwise Debian-style
// init scripts in /etc/init.d with update-rc.d. As in Chef, start and stop
// act only when needed, restart always acts and reload only when running.
// systemd reports which init system the host has (hostUsesSystemd on a
// real host; tests pass their own to drive both branches).
func serviceKind(systemd func() bool) *recipes.Kind {
	plan := func(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
		var is initSystem = sysvInit{}
		if systemd() {
			is = systemdInit{}
		}
		return planService(ctx, rc, r, action, is)
	}
	return &recipes.Kind{
		Name: "service", Actions: []string{"enable", "disable", "start", "stop", "restart", "reload"}, DefaultAction: "nothing",
		Doc: "manage a system service",
		Props: []recipes.Prop{
			{Name: "service_name", Type: recipes.String, NameProperty: true},
			// pattern is what pgrep -f looks for when there is no status.
			{Name: "pattern", Type: recipes.String},
			// pid_file: where the service writes its pid; a running
			// process there (named process_name, default the service's
			// name) answers "running" without spawning the status
			// command. Anything else still asks the status command.
			{Name: "pid_file", Type: recipes.String},
			{Name: "process_name", Type: recipes.String},
			// init_command replaces /etc/init.d/NAME.
			{Name: "init_command", Type: recipes.String},
			// supports: {status=…, restart=…, reload=…}; a false value makes
			// the provider do without that verb of the init script.
			{Name: "supports", Type: recipes.Map},
			{Name: "status_command", Type: recipes.String},
			{Name: "start_command", Type: recipes.String},
			{Name: "stop_command", Type: recipes.String},
			{Name: "restart_command", Type: recipes.String},
			{Name: "reload_command", Type: recipes.String},
			{Name: "timeout", Type: recipes.Number, Default: 900.0},
		},
		Provider: recipes.ProviderFunc(plan),
	}
}

// initSystem is how one init system queries and controls services.
type initSystem interface {
	running(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (bool, error)
	enabled(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (bool, error)
	// commands returns the commands that perform action, in order.
	commands(r *recipes.Resource, action string) []recipes.Command
}

// usesSystemd reports whether systemd manages this host: its run directory
// exists and it is PID 1 (a container may have one without the other).
func usesSystemd(runDir, pid1Comm string) bool {
	comm, err := os.ReadFile(pid1Comm)
	return pathExists(runDir) && err == nil && strings.TrimSpace(string(comm)) == "systemd"
}

// hostUsesSystemd is the detection for this host.
func hostUsesSystemd() bool { return usesSystemd("/run/systemd/system", "/proc/1/comm") }

func planService(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string, is initSystem) ([]recipes.Step, error) {
	needed := true
	var err error
	switch action {
	case "start", "stop", "reload":
		var up bool
		up, err = is.running(ctx, rc, r)
		needed = up == (action != "start")
	case "enable", "disable":
		var on bool
		on, err = is.enabled(ctx, rc, r)
		needed = on == (action == "disable")
	}
	if err != nil || !needed {
		return nil, err
	}
	apply := func(ctx context.Context) error {
		for _, c := range is.commands(r, action) {
			c.Timeout = secondsProp(r, "timeout")
			if _, err := runOK(ctx, rc, c); err != nil {
				return err
			}
		}
		return nil
	}
	return []recipes.Step{{Desc: fmt.Sprintf("%s service %s", action, r.ID()), Apply: apply}}, nil
}

// customCmd returns the shell command the recipe set for action, if any.
func customCmd(r *recipes.Resource, action string) (recipes.Command, bool) {
	s := r.Str(action + "_command")
	return newCmd("/bin/sh", "-c", s), s != ""
}

// supportsVerb reports whether the service supports a verb: true unless the
// recipe's supports table says false.
func supportsVerb(r *recipes.Resource, verb string) bool {
	v, ok := r.Map("supports")[verb]
	return !ok || v != false
}

// systemdInit drives systemctl.
type systemdInit struct{}

var _ initSystem = systemdInit{}

func (systemdInit) running(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (bool, error) {
	c, ok := customCmd(r, "status")
	if !ok {
		c = newCmd("systemctl", "is-active", "--quiet", r.Str("service_name"))
	}
	res, err := runCmd(ctx, rc, c)
	return err == nil && res.ExitCode == 0, err
}

func (systemdInit) enabled(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (bool, error) {
	res, err := runCmd(ctx, rc, newCmd("systemctl", "is-enabled", "--quiet", r.Str("service_name")))
	return err == nil && res.ExitCode == 0, err
}

func (systemdInit) commands(r *recipes.Resource, action string) []recipes.Command {
	if c, ok := customCmd(r, action); ok {
		return []recipes.Command{c}
	}
	return []recipes.Command{newCmd("systemctl", action, r.Str("service_name"))}
}

// sysvInit drives Debian init scripts and update-rc.d.
type sysvInit struct{}

var _ initSystem = sysvInit{}

func initCommand(r *recipes.Resource) string {
	if c := r.Str("init_command"); c != "" {
		return c
	}
	return "/etc/init.d/" + r.Str("service_name")
}

// running asks, in order: the pid file (see pidFileRunning), the
// status_command, the init script's status (unless supports.status is
// false), pgrep -f pattern.
func (sysvInit) running(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource) (bool, error) {
	if pidFileRunning(rc, r) {
		return true, nil
	}
	c, ok := customCmd(r, "status")
	switch {
	case ok:
	case supportsVerb(r, "status"):
		if init := initCommand(r); !pathExists(init) {
			return false, fmt.Errorf("init script %s not found: %w", init, os.ErrNotExist)
		}
		c = newCmd(initCommand(r), "status")
	default:
		pat := r.Str("pattern")
		if pat == "" {
			pat = r.Str("service_name")
		}
		c = newCmd("pgrep", "-f", pat)
	}
	res, err := runCmd(ctx, rc, c)
	return err == nil && res.ExitCode == 0, err
}

// enabled is true when a start link /etc/rc[2-5].d/S??NAME exists.
func (sysvInit) enabled(_ context.Context, _ *recipes.RunContext, r *recipes.Resource) (bool, error) {
	links, err := filepath.Glob("/etc/rc[2-5].d/S[0-9][0-9]" + r.Str("service_name"))
	return len(links) > 0, err
}

func (sysvInit) commands(r *recipes.Resource, action string) []recipes.Command {
	name, init := r.Str("service_name"), initCommand(r)
	if c, ok := customCmd(r, action); ok {
		return []recipes.Command{c}
	}
	switch action {
	case "enable":
		return []recipes.Command{newCmd("update-rc.d", name, "defaults"), newCmd("update-rc.d", name, "enable")}
	case "disable":
		return []recipes.Command{newCmd("update-rc.d", name, "disable")}
	case "restart":
		if !supportsVerb(r, "restart") {
			return append(sysvInit{}.commands(r, "stop"), sysvInit{}.commands(r, "start")...)
		}
	}
	return []recipes.Command{newCmd(init, action)}
}

// pidFileRunning tells whether the pid file declared by pid_file names
// a live process of the service (process_name, default service_name),
// from /proc: 30 µs instead of an init script's status (16 ms). Only a
// yes is trusted; no pid file, a dead or foreign pid falls through to
// the status command, so a start is never decided on the pid file alone.
func pidFileRunning(rc *recipes.RunContext, r *recipes.Resource) bool {
	pf := r.Str("pid_file")
	if pf == "" {
		return false
	}
	proc := r.Str("process_name")
	if proc == "" {
		proc = r.Str("service_name")
	}
	ok, why := procstatus.PIDAlive("", pf, proc)
	if !ok {
		rc.Log.Debug("service: pid file does not say running; asking the status command", "service", r.ID(), "reason", why)
	}
	return ok
}
