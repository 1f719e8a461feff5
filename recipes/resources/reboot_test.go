package resources

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// recordRunner records the commands it is asked to run and runs none.
// Each exits 0 with no output unless exits or stdout (keyed by the
// command line) say otherwise.
type recordRunner struct {
	mu     sync.Mutex
	cmds   []string
	exits  map[string]int
	stdout map[string]string
}

func (r *recordRunner) Run(_ context.Context, c recipes.Command) (recipes.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, c.String())
	return recipes.Result{ExitCode: r.exits[c.String()], Stdout: []byte(r.stdout[c.String()])}, nil
}

func (r *recordRunner) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cmds...)
}

func TestReboot(t *testing.T) {
	t.Parallel()
	res := sysConverge(t, recipestest.Opts{}, `reboot "kernel" { action = "request_reboot", reason = "new kernel" }`, 1)
	if res.Report.ExitCode != recipes.ExitRebootNeeded || res.Report.RebootReason != "new kernel" {
		t.Fatalf("exit %d reason %q", res.Report.ExitCode, res.Report.RebootReason)
	}
	res = sysConverge(t, recipestest.Opts{}, `reboot "kernel" { action = {"request_reboot", "cancel"} }
reboot "idle"`, 1)
	if res.Report.ExitCode != 0 || res.Report.Reboot != "" {
		t.Fatalf("cancel: exit %d reboot %q", res.Report.ExitCode, res.Report.Reboot)
	}
	rr := &recordRunner{}
	res = sysConverge(t, recipestest.Opts{Runner: rr}, `reboot "now" { action = "reboot_now", delay_mins = 2, reason = "stackagent test" }`, 1)
	if res.Report.ExitCode != recipes.ExitRebootScheduled || strings.Join(rr.cmds, "|") != "shutdown -r +2 stackagent test" {
		t.Fatalf("exit %d cmds %q", res.Report.ExitCode, rr.cmds)
	}
	rr = &recordRunner{}
	res = sysConverge(t, recipestest.Opts{Runner: rr, WhyRun: true}, `reboot "now" { action = "reboot_now" }`, -1)
	if len(rr.cmds) != 0 || res.Report.ExitCode != 0 {
		t.Fatalf("why-run ran %q, exit %d", rr.cmds, res.Report.ExitCode)
	}
}
