// Command stackagent is the on-host agent of an application stack on AWS:
// it converges the host with Lua recipes (Chef semantics), ad hoc with
// run-recipe or from the stack's lifecycle events with daemon.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code (Chef RFC 062:
// 0 ok, 1 failed run or bad usage/config, 2 SIGINT, 3 SIGTERM, 35 reboot
// scheduled, 37 reboot needed).
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && !ee.quiet() {
			fmt.Fprintf(stderr, "stackagent: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "stackagent: %v\n", err)
	return 1
}

// quiet is true when the error was already shown by the run's output.
func (e *exitError) quiet() bool { return errors.Is(e.err, errShown) }

// errShown marks an error the command already printed in full.
var errShown = errors.New("see above")

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "stackagent",
		Short:         "Converge an application host with Lua recipes (Chef semantics), ad hoc or from lifecycle events",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// --version prints what `stackagent version` prints.
	root.Version = version
	root.SetVersionTemplate(versionLine() + "\n")
	root.AddCommand(newRunRecipeCmd(), newValidateCmd(), newVersionCmd(), newDaemonCmd(), newStatusCmd())
	root.AddCommand(newEventCmd())
	root.AddCommand(newDeployCmds()...)
	root.AddCommand(newPortCmd())
	return root
}
