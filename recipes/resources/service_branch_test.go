package resources

import (
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// convergeService converges recipe with only the service kind, told the
// host has systemd or not, against a recording runner.
func convergeService(t *testing.T, systemd, whyRun bool, rr *recordRunner, recipe string) recipestest.Result {
	t.Helper()
	reg := recipes.NewRegistry()
	reg.Register(serviceKind(func() bool { return systemd }))
	res := recipestest.Converge(t, reg, map[string]string{"test/recipes/default.lua": recipe},
		recipestest.Opts{Runner: rr, WhyRun: whyRun})
	if res.Err != nil {
		t.Fatalf("converge: %v\n%s", res.Err, res.Output)
	}
	return res
}

func TestServiceBranches(t *testing.T) {
	t.Parallel()
	const recipe = `service "stackagent-nosuch" { action = {"start", "enable", "restart"}, supports = {status = false} }`
	cases := []struct {
		name    string
		systemd bool
		exits   map[string]int
		run     []string // every command when converging
		why     []string // the read-only queries why-run asks
	}{
		{"systemd", true,
			map[string]int{"systemctl is-active --quiet stackagent-nosuch": 3, "systemctl is-enabled --quiet stackagent-nosuch": 1},
			[]string{"systemctl is-active --quiet stackagent-nosuch", "systemctl start stackagent-nosuch",
				"systemctl is-enabled --quiet stackagent-nosuch", "systemctl enable stackagent-nosuch", "systemctl restart stackagent-nosuch"},
			[]string{"systemctl is-active --quiet stackagent-nosuch", "systemctl is-enabled --quiet stackagent-nosuch"}},
		{"init script", false,
			map[string]int{"pgrep -f stackagent-nosuch": 1},
			[]string{"pgrep -f stackagent-nosuch", "/etc/init.d/stackagent-nosuch start",
				"update-rc.d stackagent-nosuch defaults", "update-rc.d stackagent-nosuch enable", "/etc/init.d/stackagent-nosuch restart"},
			[]string{"pgrep -f stackagent-nosuch"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rr := &recordRunner{exits: c.exits}
			convergeService(t, c.systemd, false, rr, recipe)
			if got := strings.Join(rr.recorded(), "|"); got != strings.Join(c.run, "|") {
				t.Fatalf("ran %q\nwant %q", rr.recorded(), c.run)
			}
			rr = &recordRunner{exits: c.exits}
			res := convergeService(t, c.systemd, true, rr, recipe)
			if got := strings.Join(rr.recorded(), "|"); got != strings.Join(c.why, "|") {
				t.Fatalf("why-run ran %q\nwant only %q", rr.recorded(), c.why)
			}
			if !strings.Contains(res.Output, "Would") || res.Report.UpdatedResources != 1 {
				t.Fatalf("why-run reported %d updated\n%s", res.Report.UpdatedResources, res.Output)
			}
		})
	}
}
