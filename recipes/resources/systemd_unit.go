package resources

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/recipes"
)

const daemonReload = "systemd daemon-reload"

// systemdUnitKind is Chef's systemd_unit: the unit file in
// /etc/systemd/system, checked with systemd-analyze verify (when present)
// before it is written; one systemctl daemon-reload however many units
// changed in a row (before this kind's first systemctl action or the next
// resource of another kind, else at the end of the run), and only where
// PID 1 is systemd. The service actions
// need systemd as PID 1; on another init they fail saying so.
func systemdUnitKind(systemd func() bool) *recipes.Kind {
	return &recipes.Kind{
		Name:    "systemd_unit",
		Actions: []string{"create", "delete", "enable", "disable", "start", "stop", "restart", "reload"}, DefaultAction: "nothing",
		Doc: "manage a systemd unit file and the unit",
		Props: []recipes.Prop{
			{Name: "unit_name", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "content", Type: recipes.Any, Note: "a string, or a table of sections of keys"},
			{Name: "verify", Type: recipes.Bool, Default: true},
			{Name: "triggers_reload", Type: recipes.Bool, Default: true},
		},
		Provider: recipes.ProviderFunc(func(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
			return planSystemdUnit(ctx, rc, r, action, systemd)
		}),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error {
			if err := checkUnitName(r.Str("unit_name")); err != nil {
				return err
			}
			if _, lazy := r.Get("content").(*recipes.Lazy); lazy || !slicesHas(r.Actions, "create") {
				return nil
			}
			_, err := unitContent(r.Get("content"))
			return err
		},
	}
}

func slicesHas(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func planSystemdUnit(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string, systemd func() bool) ([]recipes.Step, error) {
	name := r.Str("unit_name")
	if err := checkUnitName(name); err != nil {
		return nil, err
	}
	display := "/etc/systemd/system/" + name
	file := rc.Path(display)
	cur, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	present := err == nil
	switch action {
	case "create":
		want, err := unitContent(r.Get("content"))
		if err != nil || (present && bytes.Equal(cur, want)) {
			return nil, err
		}
		return []recipes.Step{{Desc: map[bool]string{true: "update", false: "create"}[present] + " unit file " + display,
			Diff: unitDiff(file, display, want), Apply: func(ctx context.Context) error {
				if r.Bool("verify") {
					if err := verifyUnit(ctx, rc, name, want); err != nil {
						return err
					}
				}
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return err
				}
				if err := atomicfile.WriteFile(file, want, 0o644); err != nil {
					return err
				}
				deferReload(rc, r, systemd)
				return nil
			}}}, nil
	case "delete":
		if !present {
			return nil, nil
		}
		return []recipes.Step{{Desc: "delete unit file " + display, Apply: func(context.Context) error {
			if err := os.Remove(file); err != nil {
				return err
			}
			deferReload(rc, r, systemd)
			return nil
		}}}, nil
	}
	if !systemd() {
		return nil, fmt.Errorf("cannot %s %s: PID 1 is not systemd on this host", action, name)
	}
	return planUnitState(ctx, rc, name, action)
}

// planUnitState plans enable, disable, start, stop, restart and reload
// from systemctl is-enabled / is-active.
func planUnitState(ctx context.Context, rc *recipes.RunContext, name, action string) ([]recipes.Step, error) {
	query := map[string]string{"enable": "is-enabled", "disable": "is-enabled", "start": "is-active", "stop": "is-active"}[action]
	if query != "" {
		res, err := runCmd(ctx, rc, newCmd("systemctl", query, "--quiet", name))
		if err != nil {
			return nil, err
		}
		if on := res.ExitCode == 0; on == (action == "enable" || action == "start") {
			return nil, nil
		}
	}
	return []recipes.Step{{Desc: action + " unit " + name, Apply: func(ctx context.Context) error {
		if err := rc.Flush(ctx, daemonReload); err != nil {
			return err
		}
		_, err := runWant(ctx, rc, newCmd("systemctl", action, name), []int{0}, false)
		return err
	}}}, nil
}

// deferReload asks for the run's one daemon-reload after a unit file
// changed, where systemd runs the host.
func deferReload(rc *recipes.RunContext, r *recipes.Resource, systemd func() bool) {
	if !r.Bool("triggers_reload") || !systemd() {
		return
	}
	rc.Defer(daemonReload, func(ctx context.Context) error {
		_, err := runWant(ctx, rc, newCmd("systemctl", "daemon-reload"), []int{0}, false)
		return err
	})
}

// verifyUnit runs systemd-analyze verify on the content, staged under
// the unit's name, when systemd-analyze is installed. Template units
// (name@.service) cannot be verified alone.
func verifyUnit(ctx context.Context, rc *recipes.RunContext, name string, content []byte) error {
	if _, err := exec.LookPath("systemd-analyze"); err != nil || strings.Contains(name, "@.") {
		return nil
	}
	dir, err := os.MkdirTemp("", "stackagent-unit-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, name)
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	res, err := rc.Runner.Run(ctx, newCmd("systemd-analyze", "verify", tmp))
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(strings.ReplaceAll(string(res.Stderr)+string(res.Stdout), tmp, name))
		return fmt.Errorf("systemd-analyze verify %s: %s", name, msg)
	}
	return nil
}

// unitDiff is a diff of the unit file's change (the engine hides it
// for a sensitive resource).
func unitDiff(file, display string, want []byte) string {
	n, _ := lstatNode(file)
	m := &managedFile{display: display}
	return m.diff(fileState{node: n, path: file}, memContent(want))
}
