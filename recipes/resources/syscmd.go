package resources

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/stackagent/stackagent/recipes"
)

// ExitError is a command that exited with a status the resource does not
// accept. Its message is Chef's, so operators recognise it:
//
//	Expected process to exit with [0], but received '1'
//	---- Begin output of apt-get … ----
//	STDOUT: …
//	STDERR: …
//	---- End output of apt-get … ----
//
// The engine scrubs sensitive property values from it; a resource that is
// sensitive as a whole leaves Quiet set so the output is not shown at all.
type ExitError struct {
	Command string
	Want    []int
	Got     int
	Stdout  string
	Stderr  string
	Quiet   bool
}

func (e *ExitError) Error() string {
	want := make([]string, len(e.Want))
	for i, w := range e.Want {
		want[i] = fmt.Sprint(w)
	}
	msg := fmt.Sprintf("Expected process to exit with [%s], but received '%d'", strings.Join(want, ", "), e.Got)
	if e.Quiet {
		return msg + "\n(STDOUT/STDERR suppressed for sensitive resource)"
	}
	return fmt.Sprintf("%s\n---- Begin output of %s ----\nSTDOUT: %s\nSTDERR: %s\n---- End output of %s ----",
		msg, e.Command, strings.TrimRight(e.Stdout, "\n"), strings.TrimRight(e.Stderr, "\n"), e.Command)
}

// runCmd runs c through the run's Runner and returns its result. Failing to
// start, a timeout and cancellation are errors; the exit status is not.
func runCmd(ctx context.Context, rc *recipes.RunContext, c recipes.Command) (recipes.Result, error) {
	res, err := rc.Runner.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s: %w", c, err)
	}
	return res, nil
}

// runOK runs c and fails with an ExitError unless it exits 0.
func runOK(ctx context.Context, rc *recipes.RunContext, c recipes.Command) (recipes.Result, error) {
	return runWant(ctx, rc, c, []int{0}, false)
}

// runWant runs c and fails with an ExitError unless its exit status is
// one of want.
func runWant(ctx context.Context, rc *recipes.RunContext, c recipes.Command, want []int, quiet bool) (recipes.Result, error) {
	res, err := runCmd(ctx, rc, c)
	if err != nil {
		return res, err
	}
	for _, w := range want {
		if res.ExitCode == w {
			return res, nil
		}
	}
	return res, &ExitError{Command: c.String(), Want: want, Got: res.ExitCode,
		Stdout: string(res.Stdout), Stderr: string(res.Stderr), Quiet: quiet}
}

// newCmd builds a Command of a program and its arguments.
func newCmd(path string, args ...string) recipes.Command {
	return recipes.Command{Path: path, Args: args}
}

// applyCmd is a Step's Apply that runs c and requires exit 0.
func applyCmd(rc *recipes.RunContext, c recipes.Command) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := runOK(ctx, rc, c)
		return err
	}
}

// cmdStep is a Step with one description and one command to apply.
func cmdStep(rc *recipes.RunContext, desc string, c recipes.Command) recipes.Step {
	return recipes.Step{Desc: desc, Apply: applyCmd(rc, c)}
}

// noteSteps turns extra descriptions into Steps without an Apply: details of
// the change the step before them makes ("change shell from … to …").
func noteSteps(descs ...string) []recipes.Step {
	out := make([]recipes.Step, len(descs))
	for i, d := range descs {
		out[i] = recipes.Step{Desc: d}
	}
	return out
}

// envList turns a Map property into KEY=VALUE pairs, sorted by key.
func envList(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+fmt.Sprint(v))
	}
	sort.Strings(out)
	return out
}

// secondsProp converts a Number property in seconds to a duration.
func secondsProp(r *recipes.Resource, prop string) time.Duration {
	return time.Duration(r.Num(prop) * float64(time.Second))
}

// pathExists reports whether a path exists (following links).
func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readLines returns the lines of a file; a missing file has none.
func readLines(file string) ([]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// getent looks up a key in a name-service database (passwd, group,
// shadow) and returns the entry's colon-separated fields, or nil when
// there is no such entry (getent exits 2).
func getent(ctx context.Context, rc *recipes.RunContext, db, key string) ([]string, error) {
	res, err := runCmd(ctx, rc, newCmd("getent", db, "--", key))
	if err != nil {
		return nil, err
	}
	switch res.ExitCode {
	case 0:
		line, _, _ := strings.Cut(string(res.Stdout), "\n")
		return strings.Split(line, ":"), nil
	case 2:
		return nil, nil
	}
	return nil, fmt.Errorf("getent %s %s: exit %d: %s", db, key, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
}

// platformFamily is the node's platform_family ("debian", "rhel", …).
func platformFamily(rc *recipes.RunContext) string { return rc.Node.GetString("platform_family") }

// isRPMFamily reports whether a platform family uses rpm and dnf/yum.
func isRPMFamily(f string) bool {
	return f == "rhel" || f == "fedora" || f == "amazon"
}
