package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Repairer restarts a service.
type Repairer interface {
	// Restart restarts s and returns the command's output.
	Restart(ctx context.Context, s *Service) (string, error)
}

// InitRepairer restarts a service with the commands the service resource
// uses for its restart action: the service's restart_command when it
// declares one (argv, or a shell command through /bin/sh -c), else systemctl restart UNIT under systemd, else the init
// script's restart (/etc/init.d/INIT restart, or its init_command).
type InitRepairer struct {
	Systemd bool
}

// Command is the command Restart runs for s.
func (r InitRepairer) Command(s *Service) []string {
	switch {
	case len(s.RestartArgv) > 0:
		return s.RestartArgv
	case s.RestartCommand != "":
		return []string{"/bin/sh", "-c", s.RestartCommand}
	case r.Systemd:
		return []string{"systemctl", "restart", s.initName()}
	case s.InitCommand != "":
		return []string{s.InitCommand, "restart"}
	}
	return []string{"/etc/init.d/" + s.initName(), "restart"}
}

// Restart implements Repairer.
func (r InitRepairer) Restart(ctx context.Context, s *Service) (string, error) {
	argv := r.Command(s)
	ctx, cancel := context.WithTimeout(ctx, s.startTimeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A daemon the script starts may keep the output pipe open: once the
	// script has exited, its output is not waited for longer than this.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	text := strings.TrimSpace(out.String())
	if err != nil {
		return text, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return text, nil
}
