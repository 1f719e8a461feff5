package heal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/procstatus"
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

// repair restarts s, waits for it to be up, and records the attempt.
func (w *Watchdog) repair(ctx context.Context, s *watched, why string) {
	release, ok := w.lockForRepair(s, why)
	if !ok {
		return
	}
	defer release()
	start := w.Now()
	w.Log.Warn("watchdog: service is down; restarting it", "service", s.spec.Name, "detail", why)
	ev := Event{Kind: "repair", Service: s.spec.Name, Reason: why, Start: start.UTC()}
	out, err := w.restart(ctx, s, &ev)
	end := w.Now()
	ev.End, ev.OK = end.UTC(), err == nil
	if err != nil {
		ev.Error = err.Error()
	}
	failures, attempts, escalate := w.record(s, &ev, start, end, err)
	w.Metrics.repaired(s.spec.Name, err == nil)
	if err != nil {
		w.Log.Error("watchdog: repair failed", "service", s.spec.Name, "error", err, "output", oneLine(out),
			"failed_repairs_in_window", failures, "repair_max", w.RepairMax, "window", w.RepairWindow)
	} else {
		w.Metrics.checked(s.spec.Name, true)
		w.Log.Warn("watchdog: service repaired", "service", s.spec.Name, "was", why, "seconds", end.Sub(start).Seconds(), "repairs_in_window", attempts)
	}
	w.OnEvent(ev)
	if escalate {
		w.escalate(ctx, fmt.Sprintf("service %s: %d repairs failed within %s (last: %s; %s)", s.spec.Name, failures, w.RepairWindow, why, ev.Error))
	}
}

// lockForRepair takes the converge lock when there is one; ok is false
// (and the repair put off) while another converge holds it.
func (w *Watchdog) lockForRepair(s *watched, why string) (release func(), ok bool) {
	if w.Lock == nil {
		return func() {}, true
	}
	release, holder, ok := w.Lock()
	if !ok {
		w.Log.Info("watchdog: service is down; repair put off while a converge holds the lock", "service", s.spec.Name, "holder", holder, "detail", why)
	}
	return release, ok
}

// restart runs the restart command and waits for s to be up; ev gets the
// command and its output.
func (w *Watchdog) restart(ctx context.Context, s *watched, ev *Event) (string, error) {
	if ir, ok := w.Repairer.(InitRepairer); ok {
		ev.Command = ir.Command(&s.spec)
	}
	if s.spec.PIDFile != "" {
		// A killed main process is a zombie until its parent reaps it;
		// the init script would take it for a running server.
		waitReaped(ctx, s.spec.PIDFile, 3*time.Second)
	}
	out, err := w.Repairer.Restart(ctx, &s.spec)
	ev.Output = tail(out, 2048)
	if err == nil {
		err = w.waitUp(ctx, s)
	}
	return out, err
}

// record counts the attempt (and the failure) within the window, sets the
// back-off, and says whether the failures now call for the hand-back.
func (w *Watchdog) record(s *watched, ev *Event, start, end time.Time, err error) (failures, attempts int, escalate bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cut := end.Add(-w.RepairWindow)
	s.attempts = append(within(s.attempts, cut), start)
	s.repairs++
	if err != nil {
		s.failures = append(within(s.failures, cut), start)
		s.failed++
	} else {
		s.up = true
	}
	s.nextRepair = end.Add(Backoff(len(s.attempts), w.Interval, w.BackoffMax))
	s.last = ev
	failures, attempts = len(s.failures), len(s.attempts)
	escalate = err != nil && w.Escalate && failures >= w.RepairMax && w.handedBack == nil && w.escalation == ""
	return failures, attempts, escalate
}

// waitUp polls the process check (and the web checks, once each) until
// the service is up or its start timeout passes.
func (w *Watchdog) waitUp(ctx context.Context, s *watched) error {
	deadline := time.Now().Add(s.spec.startTimeout())
	var detail string
	for {
		up, d := w.Prober.Alive(ctx, &s.spec)
		detail = d
		if up {
			var err error
			for i := range s.spec.HTTP {
				if err = checkHTTP(ctx, w.client, &s.spec.HTTP[i]); err != nil {
					break
				}
			}
			if err == nil {
				w.mu.Lock()
				for k := range s.httpFails {
					s.httpFails[k] = 0
				}
				w.mu.Unlock()
				return nil
			}
			detail = err.Error()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("not up %s after the restart: %s", s.spec.startTimeout(), detail)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// escalate hands the instance back, or says once why it cannot.
func (w *Watchdog) escalate(ctx context.Context, reason string) {
	start := w.Now()
	ev := Event{Kind: "handback", Reason: reason, Start: start.UTC()}
	var err error
	if w.Healther == nil {
		err = fmt.Errorf("no Auto Scaling client: AWS is not configured (region, credentials)")
	} else {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = w.Healther.SetUnhealthy(cctx, w.InstanceID, reason)
		cancel()
	}
	ev.End, ev.OK = w.Now().UTC(), err == nil
	w.mu.Lock()
	if err != nil {
		ev.Error = err.Error()
		w.escalation = err.Error()
	} else {
		w.handedBack = &HandBack{At: ev.End, Reason: reason}
		w.save()
	}
	w.mu.Unlock()
	if err != nil {
		w.Log.Error("watchdog: cannot hand the instance back to its Auto Scaling group; repairs go on", "instance", w.InstanceID, "reason", reason, "error", err)
	} else {
		w.Metrics.handBack(true)
		w.Log.Error("watchdog: instance marked Unhealthy in its Auto Scaling group; no more repairs: the group replaces it", "instance", w.InstanceID, "reason", reason)
	}
	w.OnEvent(ev)
}

// waitReaped waits up to limit while the pid file's process is a zombie.
func waitReaped(ctx context.Context, pidfile string, limit time.Duration) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, state, err := procstatus.Stat("/proc/" + pid + "/stat"); err != nil || state != 'Z' {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Backoff is the wait after the n-th repair of a service within the
// window: none after the first (a service that died once is restarted at
// once), then base·2ⁿ⁻¹ (2, 4, 8 … intervals), at most max.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n <= 1 {
		return 0
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func within(ts []time.Time, cut time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if t.After(cut) {
			out = append(out, t)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func oneLine(s string) string {
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return s
}
