package resources

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stackagent/stackagent/e2e"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
	"github.com/stackagent/stackagent/testenv"
)

// execRecorder runs commands for real and records them.
type execRecorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *execRecorder) Run(ctx context.Context, c recipes.Command) (recipes.Result, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c.String())
	r.mu.Unlock()
	return recipes.ExecRunner{}.Run(ctx, c)
}

// TestServicePidFileApache: with pid_file declared, a running Apache is
// found running from its pid file and /proc, with no process spawned;
// a stopped one (no pid file) is asked about through the init script
// and started; a pid file naming another program is not trusted.
func TestServicePidFileApache(t *testing.T) {
	needRoot(t, "starts and stops the host's Apache")
	testenv.Command(t, "apache2", "Apache installed (apt-get install apache2)")
	if hostUsesSystemd() {
		t.Skip("host runs systemd; this test is for init scripts")
	}
	e2e.LockApache(t)
	const pidfile = "/var/run/apache2/apache2.pid"
	status := func() bool { return exec.Command("/etc/init.d/apache2", "status").Run() == nil }
	was := status()
	t.Cleanup(func() {
		if !was {
			exec.Command("/etc/init.d/apache2", "stop").Run()
		}
	})
	start := `service "apache2" { action = "start", pid_file = "` + pidfile + `" }`

	exec.Command("/etc/init.d/apache2", "stop").Run()
	run := &execRecorder{}
	res := sysConverge(t, recipestest.Opts{Runner: run}, start, 1)
	if !status() || !slices.Contains(run.cmds, "/etc/init.d/apache2 status") {
		t.Fatalf("stopped Apache: running %v, commands %v\n%s", status(), run.cmds, res.Output)
	}

	run = &execRecorder{}
	sysConverge(t, recipestest.Opts{Runner: run}, start, 0)
	if len(run.cmds) != 0 {
		t.Errorf("running Apache with a pid file: ran %v, want no command", run.cmds)
	}

	// A pid file naming a live process that is not Apache: asked anew.
	foreign := t.TempDir() + "/foreign.pid"
	if err := os.WriteFile(foreign, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	run = &execRecorder{}
	sysConverge(t, recipestest.Opts{Runner: run}, `service "apache2" { action = "start", pid_file = "`+foreign+`" }`, 0)
	if !slices.Contains(run.cmds, "/etc/init.d/apache2 status") {
		t.Errorf("foreign pid file: commands %v, want the init script asked", run.cmds)
	}
}
