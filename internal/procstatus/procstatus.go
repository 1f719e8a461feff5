// Package procstatus tells whether a service's process runs from its pid
// file and /proc, without spawning a process: read the pid file,
// kill(pid, 0), then /proc/PID/stat for the command name and state. The
// watchdog (internal/heal) checks services with it every few seconds and
// the service resource before it falls back to an init script's status.
package procstatus

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// PIDAlive reads pidfile and looks its process up under procRoot
// ("/proc" when empty). The process runs when the pid is alive, not a
// zombie, and, when process is set, its command name (/proc/PID/comm,
// at most 15 bytes) is process: a reused pid is not the service. The
// string says why, for logs and status pages.
func PIDAlive(procRoot, pidfile, process string) (bool, string) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, "no pid file " + pidfile
		}
		return false, err.Error()
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false, fmt.Sprintf("pid file %s holds no pid", pidfile)
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false, fmt.Sprintf("pid %d (from %s) is not running", pid, pidfile)
	}
	if procRoot == "" {
		procRoot = "/proc"
	}
	comm, state, err := Stat(procRoot + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false, fmt.Sprintf("pid %d (from %s) is not running", pid, pidfile)
	}
	switch state {
	case 'Z', 'X', 'x':
		return false, fmt.Sprintf("pid %d (from %s) is dead (state %c)", pid, pidfile, state)
	}
	if process != "" && comm != process {
		return false, fmt.Sprintf("pid %d (from %s) is %s, not %s (stale pid file)", pid, pidfile, comm, process)
	}
	return true, fmt.Sprintf("pid %d running", pid)
}

// Stat returns the command name and the state letter of a
// /proc/PID/stat file ("PID (COMM) S ..."; COMM may hold spaces and
// parens).
func Stat(file string) (string, byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", 0, err
	}
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open || close+2 >= len(b) {
		return "", 0, fmt.Errorf("%s: unexpected format", file)
	}
	return string(b[open+1 : close]), b[close+2], nil
}
