package resources

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

const unitTable = `{
  Unit = { Description = "stackagent test", After = { "network.target", "remote-fs.target" } },
  Service = { ExecStart = "/bin/true", Type = "oneshot", RemainAfterExit = true },
  Install = { WantedBy = "multi-user.target" },
}`

// TestSystemdUnitFile writes a unit from a table and from a string,
// verified by systemd-analyze where it is installed; a unit that does not
// verify is not written. PID 1 is not systemd here: the service actions
// fail saying so, and no daemon-reload runs.
func TestSystemdUnitFile(t *testing.T) {
	t.Parallel()
	root := newRoot(t, "etc/systemd/system")
	o := recipestest.Opts{Root: root}
	recipe := `systemd_unit "sa-test.service" { content = ` + unitTable + `, action = "create" }`
	sysConverge(t, o, recipe, 1)
	file := filepath.Join(root, "etc/systemd/system/sa-test.service")
	want := "[Unit]\nAfter=network.target\nAfter=remote-fs.target\nDescription=stackagent test\n\n[Service]\nExecStart=/bin/true\nRemainAfterExit=yes\nType=oneshot\n\n[Install]\nWantedBy=multi-user.target\n"
	if got := readFile(t, file); got != want {
		t.Fatalf("unit:\n%s\nwant:\n%s", got, want)
	}
	sysConverge(t, o, recipe, 0)
	sysConverge(t, o, `systemd_unit "sa-test.service" { content = "[Service]\nExecStart=/bin/false", action = "create" }`, 1)
	if got := readFile(t, file); got != "[Service]\nExecStart=/bin/false\n" {
		t.Fatalf("string content: %q", got)
	}
	if hasCommand("systemd-analyze") {
		res := sysConvergeErr(t, o, `systemd_unit "sa-bad.service" { content = "[Service]\nExecStart=relative/path", action = "create" }`)
		if !strings.Contains(res.Err.Error(), "systemd-analyze verify sa-bad.service") || pathExists(filepath.Join(root, "etc/systemd/system/sa-bad.service")) {
			t.Fatalf("unverified unit: %v", res.Err)
		}
	}
	if !hostUsesSystemd() {
		res := sysConvergeErr(t, o, `systemd_unit "sa-test.service" { action = "start" }`)
		if !strings.Contains(res.Err.Error(), "PID 1 is not systemd") {
			t.Fatalf("start without systemd: %v", res.Err)
		}
	}
	sysConverge(t, o, `systemd_unit "sa-test.service" { action = "delete" }`, 1)
	for recipe, want := range map[string]string{
		`systemd_unit "../x.service" { action = "create", content = "" }`:                                "unit_name",
		`systemd_unit "x.service" { action = "create", content = { Service = { ExecStart = "a\nb" } } }`: "Service.ExecStart",
		`systemd_unit "x.service" { action = "create", content = { ["Bad]"] = {} } }`:                    `section "Bad]"`,
	} {
		if res := sysConvergeErr(t, o, recipe); !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %s", recipe, res.Err, want)
		}
	}
}

// TestSystemdUnitReloadOncePerRun: where systemd runs the host, two
// changed units cost one daemon-reload, run before the first systemctl
// action that needs it, and not again at the end.
func TestSystemdUnitReloadOncePerRun(t *testing.T) {
	t.Parallel()
	reg := recipes.NewRegistry()
	reg.Register(systemdUnitKind(func() bool { return true }))
	rr := &recordRunner{exits: map[string]int{"systemctl is-active --quiet b.service": 3}}
	root := newRoot(t, "etc/systemd/system")
	res := recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": `
systemd_unit "a.service" { content = { Service = { ExecStart = "/bin/true" } }, action = "create", verify = false }
systemd_unit "b.service" { content = { Service = { ExecStart = "/bin/true" } }, action = { "create", "start" }, verify = false }
`}, recipestest.Opts{Root: root, Runner: rr})
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	got := strings.Join(rr.recorded(), "; ")
	if got != "systemctl is-active --quiet b.service; systemctl daemon-reload; systemctl start b.service" {
		t.Fatalf("commands: %s", got)
	}
	rr = &recordRunner{}
	res = recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": `
systemd_unit "c.service" { content = "[Service]\nExecStart=/bin/true\n", action = "create", verify = false }
systemd_unit "d.service" { content = "[Service]\nExecStart=/bin/true\n", action = "create", verify = false }
`}, recipestest.Opts{Root: root, Runner: rr})
	if got := strings.Join(rr.recorded(), "; "); res.Err != nil || got != "systemctl daemon-reload" {
		t.Fatalf("at the end of the run: %s (%v)", got, res.Err)
	}
	// A resource of another kind (a service starting the unit) comes after
	// the reload.
	reg.Register(executeKind())
	rr = &recordRunner{}
	res = recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": `
systemd_unit "e.service" { content = "[Service]\nExecStart=/bin/true\n", action = "create", verify = false }
execute "start e" { command = { "systemctl", "start", "e.service" } }
`}, recipestest.Opts{Root: root, Runner: rr})
	if got := strings.Join(rr.recorded(), "; "); res.Err != nil || got != "systemctl daemon-reload; systemctl start e.service" {
		t.Fatalf("before the next kind: %s (%v)", got, res.Err)
	}
}

func hasCommand(name string) bool { _, err := exec.LookPath(name); return err == nil }
