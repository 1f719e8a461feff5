package recipes

import (
	"os/user"

	"github.com/stackagent/stackagent/internal/command"
)

// The process runner lives in internal/command (a leaf package the
// lifecycle uses too); these names keep the engine's API.
type (
	// Command is a process for a Runner to run.
	Command = command.Command
	// Result is what a finished process left.
	Result = command.Result
	// Runner runs processes.
	Runner = command.Runner
	// ExecRunner runs commands with os/exec.
	ExecRunner = command.ExecRunner
)

// ErrTimeout is returned (wrapped) when a command ran past its timeout.
var ErrTimeout = command.ErrTimeout

// LookupUser finds a user by name or numeric id.
func LookupUser(name string) (*user.User, error) { return command.LookupUser(name) }

// LookupGID finds a group id by name or numeric id.
func LookupGID(name string) (int, error) { return command.LookupGID(name) }

// LookupUID finds a user id by name or numeric id.
func LookupUID(name string) (int, error) { return command.LookupUID(name) }
