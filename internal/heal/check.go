package heal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/procstatus"
)

// Prober tells whether a service's processes run.
type Prober interface {
	// Alive reports whether s runs, and why not (or how it was told).
	Alive(ctx context.Context, s *Service) (bool, string)
}

// InitProber checks a service the way the host's init system runs it,
// without spawning a process where it can:
//
//   - init scripts (PID 1 is not systemd): the pid file, kill(pid, 0) and
//     the state in /proc/PID/stat (a zombie or dead task is not running);
//     only a service that declares no pid file falls back to its init
//     script's status, a process per check.
//   - systemd (PID 1 is systemd): the unit's cgroup,
//     /sys/fs/cgroup/system.slice/UNIT.service/cgroup.events, says
//     "populated 1" while a process of the unit lives (cgroup v2); without
//     it, systemctl is-active, a process per check. (Asking systemd over
//     D-Bus would avoid the process too, but needs a D-Bus client the
//     agent does not carry; the cgroup file answers the same question for
//     the price of one read.)
type InitProber struct {
	// Systemd: the host is run by systemd (see UsesSystemd).
	Systemd bool
	// CgroupRoot is /sys/fs/cgroup unless set.
	CgroupRoot string
	// ProcRoot is /proc unless set.
	ProcRoot string
}

// UsesSystemd reports whether systemd is PID 1 (as the service resource
// decides): /run/systemd/system exists and /proc/1/comm is systemd.
func UsesSystemd() bool {
	comm, err := os.ReadFile("/proc/1/comm")
	_, serr := os.Stat("/run/systemd/system")
	return err == nil && serr == nil && strings.TrimSpace(string(comm)) == "systemd"
}

// Alive implements Prober.
func (p InitProber) Alive(ctx context.Context, s *Service) (bool, string) {
	if p.Systemd {
		root := p.CgroupRoot
		if root == "" {
			root = "/sys/fs/cgroup"
		}
		unit := s.initName()
		if !strings.Contains(unit, ".") {
			unit += ".service"
		}
		if b, err := os.ReadFile(root + "/system.slice/" + unit + "/cgroup.events"); err == nil {
			if bytes.Contains(b, []byte("populated 1")) {
				return true, "unit " + unit + " has processes"
			}
			return false, "unit " + unit + " has no process"
		}
		err := exec.CommandContext(ctx, "systemctl", "is-active", "--quiet", unit).Run()
		if err == nil {
			return true, "systemctl is-active " + unit
		}
		return false, "systemctl is-active " + unit + ": " + err.Error()
	}
	if s.PIDFile != "" {
		return procstatus.PIDAlive(p.ProcRoot, s.PIDFile, s.Process)
	}
	init := s.InitCommand
	if init == "" {
		init = "/etc/init.d/" + s.initName()
	}
	if err := exec.CommandContext(ctx, init, "status").Run(); err != nil {
		return false, init + " status: " + err.Error()
	}
	return true, init + " status"
}

// checkHTTP runs one web check against 127.0.0.1.
func checkHTTP(ctx context.Context, client *http.Client, c *HTTPCheck) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)) + c.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	req.Header.Set("User-Agent", "stackagent-watchdog")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s (Host %s): %w", url, req.Host, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != c.Status {
		return fmt.Errorf("GET %s (Host %s): %d, want %d (%s)", url, req.Host, resp.StatusCode, c.Status, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// newHTTPClient never follows redirects (a 301 is what a check may
// expect) and keeps connections for the next check.
func newHTTPClient() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute},
	}
}

// check runs the process check, then the web checks, and reports whether
// the service needs a repair.
func (w *Watchdog) check(ctx context.Context, s *watched) (bool, string) {
	up, detail := w.Prober.Alive(ctx, &s.spec)
	if !up {
		return false, detail
	}
	for i := range s.spec.HTTP {
		c := &s.spec.HTTP[i]
		err := checkHTTP(ctx, w.client, c)
		w.mu.Lock()
		if err == nil {
			s.httpFails[c.Name] = 0
			w.mu.Unlock()
			continue
		}
		s.httpFails[c.Name]++
		n := s.httpFails[c.Name]
		w.mu.Unlock()
		if n >= c.Failures {
			return false, fmt.Sprintf("web check %s failed %d times in a row: %v", c.Name, n, err)
		}
		w.Log.Warn("watchdog: web check failed", "service", s.spec.Name, "check", c.Name, "failures", n, "repair_at", c.Failures, "error", err)
	}
	return true, detail
}

func (w *Watchdog) checkOne(ctx context.Context, s *watched) {
	up, detail := w.check(ctx, s)
	now := w.Now()
	w.mu.Lock()
	if w.svcs[s.spec.Name] != s {
		w.mu.Unlock()
		return // unwatched meanwhile
	}
	wasUp, seen := s.up, s.checked
	s.up, s.checked, s.detail, s.lastCheck = up, true, detail, now
	handedBack, paused := w.handedBack != nil, w.paused
	wait := s.nextRepair.Sub(now)
	w.mu.Unlock()
	w.Metrics.checked(s.spec.Name, up)
	if up {
		if seen && !wasUp {
			w.Log.Info("watchdog: service is up again", "service", s.spec.Name, "detail", detail)
		}
		return
	}
	switch {
	case paused:
		return
	case handedBack:
		if !seen || wasUp {
			w.Log.Warn("watchdog: service is down; not repairing: the instance was handed back to its Auto Scaling group", "service", s.spec.Name, "detail", detail)
		}
		return
	case wait > 0:
		w.Log.Info("watchdog: service is down; backing off before the next repair", "service", s.spec.Name, "detail", detail, "retry_in", wait.Round(time.Second))
		return
	}
	w.repair(ctx, s, detail)
}
