// Package command runs processes for the engine, its providers and the
// lifecycle (git for custom cookbooks): argv only, never a shell string.
// It imports nothing of the project.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Command is a process for a Runner to run.
type Command struct {
	Path  string
	Args  []string
	Dir   string
	Env   []string // added to the agent's environment
	Stdin io.Reader
	// User and Group, when set, run the process with those credentials.
	User, Group string
	// Timeout, when positive, kills the process (and its group) after it.
	Timeout time.Duration
}

func (c Command) String() string { return strings.Join(append([]string{c.Path}, c.Args...), " ") }

// Result is what a finished process left.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Runner runs processes. The engine and providers get one from the
// RunContext; tests may pass their own.
type Runner interface {
	Run(ctx context.Context, c Command) (Result, error)
}

// ErrTimeout is returned (wrapped) when a command ran past its timeout.
var ErrTimeout = errors.New("command timed out")

// ExecRunner runs commands with os/exec.
type ExecRunner struct{}

var _ Runner = ExecRunner{}

// Run runs c and waits. A non-zero exit is not an error: it is in
// Result.ExitCode. Errors are failures to start, timeouts and cancellation.
func (ExecRunner) Run(ctx context.Context, c Command) (Result, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = c.Stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if c.User != "" || c.Group != "" {
		cred, home, err := credential(c.User, c.Group)
		if err != nil {
			return Result{ExitCode: -1}, err
		}
		cmd.SysProcAttr.Credential = cred
		if home != "" {
			cmd.Env = append(cmd.Env, "HOME="+home, "USER="+c.User, "LOGNAME="+c.User)
		}
	}
	err := cmd.Run()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return res, fmt.Errorf("run %s: %w after %s", c.Path, ErrTimeout, c.Timeout)
		}
		return res, fmt.Errorf("run %s: %w", c.Path, ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, fmt.Errorf("run %s: %w", c.Path, err)
	}
	return res, nil
}

// credential resolves a user and group name (or numeric id) to credentials.
func credential(userName, groupName string) (*syscall.Credential, string, error) {
	cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	home := ""
	if userName != "" {
		u, err := LookupUser(userName)
		if err != nil {
			return nil, "", err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred.Uid, cred.Gid, home = uint32(uid), uint32(gid), u.HomeDir
	}
	if groupName != "" {
		gid, err := LookupGID(groupName)
		if err != nil {
			return nil, "", err
		}
		cred.Gid = uint32(gid)
	}
	return cred, home, nil
}

// LookupUser finds a user by name or numeric id.
func LookupUser(name string) (*user.User, error) {
	if _, err := strconv.Atoi(name); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	return u, nil
}

// LookupGID finds a group id by name or numeric id.
func LookupGID(name string) (int, error) {
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("look up group %q: %w", name, err)
	}
	return strconv.Atoi(g.Gid)
}

// LookupUID finds a user id by name or numeric id.
func LookupUID(name string) (int, error) {
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	u, err := LookupUser(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(u.Uid)
}
