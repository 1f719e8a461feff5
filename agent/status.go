package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/hostlock"
	"github.com/stackagent/stackagent/internal/telemetry"
	"github.com/stackagent/stackagent/lifecycle"
)

// statusRuns is how many of the last runs status shows.
const statusRuns = 10

func newStatusCmd() *cobra.Command {
	var cfgPath string
	var asJSON bool
	overrides := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "status [--config FILE] [--json]",
		Short: "Show the daemon's health, current event and last runs",
		Long: `Show what the daemon is doing: its health (from /healthz on
metrics_address when it serves one), the event it converges, the event
source, the converge lock's holder and the last runs kept in state_dir/runs.
When the daemon cannot be reached, the state directory alone is shown.

Exit status: 0 healthy, 1 unhealthy or not reachable (stopped, or
metrics_address off).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			for k, v := range overrides {
				flags[k] = *v
			}
			cfg, _, err := loadConfig(cfgPath, cmd.Flags().Changed("config"), os.Getenv, flags)
			if err != nil {
				return &exitError{1, err}
			}
			st := gatherStatus(cmd.Context(), cfg)
			st.Security = securityProblems(cfg, cfgPath)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
			} else {
				st.print(cmd.OutOrStdout())
				printSecurity(cmd.OutOrStdout(), cfg, st.Security)
			}
			if !st.Healthy {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", configPathDefault(), "agent config file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	addConfigFlags(cmd.Flags(), overrides)
	return cmd
}

// agentStatus is what status shows (and prints with --json).
type agentStatus struct {
	Healthy bool   `json:"healthy"`
	Summary string `json:"summary"`
	// Health is the daemon's /healthz; nil when not reachable (Error says
	// why).
	Health     *telemetry.HealthReport `json:"health"`
	Error      string                  `json:"error,omitempty"`
	Source     string                  `json:"source"`
	Waiting    *int                    `json:"inbox_waiting,omitempty"`
	InProgress *inProgressStatus       `json:"in_progress,omitempty"`
	Lock       *hostlock.Holder        `json:"lock_holder,omitempty"`
	LockAlive  bool                    `json:"lock_holder_running,omitempty"`
	Runs       []*lifecycle.Result     `json:"last_runs"`
	// Security lists strict-mode problems (agent/strictmodes.go).
	Security []string `json:"security,omitempty"`
}

// inProgressStatus is state_dir/in-progress.json, the event a converge
// started and did not finish.
type inProgressStatus struct {
	EventID  string    `json:"event_id"`
	Type     string    `json:"type"`
	Started  time.Time `json:"started"`
	PID      int       `json:"pid"`
	Running  bool      `json:"pid_running"`
	Attempts int       `json:"attempts"`
}

func gatherStatus(ctx context.Context, cfg *Config) *agentStatus {
	st := &agentStatus{Source: sourceName(cfg), Runs: []*lifecycle.Result{}}
	if ctx == nil {
		ctx = context.Background()
	}
	if metricsOff(cfg.MetricsAddress) {
		st.Error = "metrics_address is off: the daemon's health cannot be read"
	} else if h, err := fetchHealth(ctx, cfg.MetricsAddress); err != nil {
		st.Error = err.Error()
	} else {
		st.Health = h
	}
	switch {
	case st.Health != nil:
		st.Healthy = st.Health.Healthy
		st.Summary = "healthy"
		if !st.Healthy {
			st.Summary = "UNHEALTHY"
		}
		st.Summary += ": " + st.Health.Reason
	default:
		st.Summary = "UNKNOWN: " + st.Error
	}
	if cfg.QueueURL == "" {
		if n, err := countInbox(inboxDir(cfg)); err == nil {
			st.Waiting = &n
		}
	}
	if ip, _ := lifecycle.LoadInProgress(filepath.Join(cfg.StateDir, "in-progress.json")); ip != nil {
		st.InProgress = &inProgressStatus{EventID: ip.Event.ID, Type: ip.Event.Type, Started: ip.Started,
			PID: ip.PID, Running: pidRunning(ip.PID), Attempts: ip.Attempts}
	}
	st.Lock = lockHolder(filepath.Join(cfg.StateDir, "converge.lock"))
	if st.Lock != nil {
		st.LockAlive = pidRunning(st.Lock.PID)
	}
	store := &lifecycle.ResultStore{Dir: filepath.Join(cfg.StateDir, "runs")}
	if runs := store.Last(statusRuns); runs != nil {
		st.Runs = runs
	}
	return st
}

// fetchHealth reads /healthz of the daemon at addr (a wildcard host is
// reached on loopback). A 503 answer is a health report too.
func fetchHealth(ctx context.Context, addr string) (*telemetry.HealthReport, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_address %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("daemon not reachable at %s: %w", url, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	var h telemetry.HealthReport
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h); err != nil || h.State == "" {
		return nil, fmt.Errorf("%s: %s: not a stackagent health report", url, resp.Status)
	}
	return &h, nil
}

// countInbox counts the event files waiting in the inbox.
func countInbox(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n, nil
}

// lockHolder reads who holds the converge lock without taking it: the
// holder writes itself into the file and empties it on release.
func lockHolder(path string) *hostlock.Holder {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	var h hostlock.Holder
	if json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}

func pidRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (st *agentStatus) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := tabRows(tw)
	row("health:", "%s", st.Summary)
	if st.Health != nil {
		printHealth(row, st.Health)
	} else if st.InProgress != nil {
		printInProgress(row, st.InProgress)
	}
	st.printQueueAndLock(row)
	tw.Flush()
	fmt.Fprintln(w)
	if st.Health != nil && st.Health.AutoHeal != nil {
		// Auto heal: a block of its own (its labels are longer).
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		printAutoHeal(tabRows(tw), st.Health.AutoHeal)
		tw.Flush()
		fmt.Fprintln(w)
	}
	printRuns(w, st.Runs)
}

// rowFunc writes one "label  value" row of a status block.
type rowFunc func(k, format string, a ...any)

// tabRows writes rows to tw, label and value in two columns.
func tabRows(tw *tabwriter.Writer) rowFunc {
	return func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
}

// printHealth writes the daemon's state, current event, polls and last run.
func printHealth(row rowFunc, h *telemetry.HealthReport) {
	row("state:", "%s since %s (%s)", h.State, h.StateSince.Local().Format(time.DateTime), ago(h.StateSeconds))
	if ev := h.CurrentEvent; ev != nil {
		row("current event:", "%s %s%s", ev.Type, ev.ID, appCmd(ev.App, ev.Command))
	} else {
		row("current event:", "none")
	}
	if h.LastPollAgeSeconds != nil {
		row("last poll:", "%s ago", ago(*h.LastPollAgeSeconds))
	} else {
		row("last poll:", "none yet")
	}
	if h.LastReceiveError != "" {
		row("receive error:", "%s", h.LastReceiveError)
	}
	if lr := h.LastResult; lr != nil {
		row("last run:", "%s %s %s in %s, %s ago", lr.EventType, lr.EventID, lr.Status, ago(lr.DurationSeconds), ago(lr.AgeSeconds))
	}
	if h.Version != "" {
		row("version:", "%s", h.Version)
	}
}

// printInProgress writes the event a converge started and did not finish
// (the daemon not reachable).
func printInProgress(row rowFunc, ip *inProgressStatus) {
	running := "not running: the next start runs it again"
	if ip.Running {
		running = "running"
	}
	row("in progress:", "%s %s since %s (pid %d, %s)", ip.Type, ip.EventID, ip.Started.Local().Format(time.DateTime), ip.PID, running)
}

// printQueueAndLock writes the event source and the converge lock.
func (st *agentStatus) printQueueAndLock(row rowFunc) {
	queue := st.Source
	if st.Waiting != nil {
		queue += fmt.Sprintf(" (%d waiting)", *st.Waiting)
	}
	row("queue:", "%s", queue)
	switch {
	case st.Lock == nil:
		row("converge lock:", "free")
	case st.LockAlive:
		row("converge lock:", "held by %s", st.Lock)
	default:
		row("converge lock:", "free (stale record of %s)", st.Lock)
	}
}

// printRuns writes the table of the last runs.
func printRuns(w io.Writer, runs []*lifecycle.Result) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs recorded")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDED\tEVENT\tTYPE\tSTATUS\tDURATION\tUPDATED\tREASON")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", r.End.Local().Format(time.DateTime), r.EventID, r.EventType+appCmd(r.App, r.Command),
			r.Status, ago(r.End.Sub(r.Start).Seconds()), r.Updated, r.Total, oneLine(r.Reason, 60))
	}
	tw.Flush()
}

func appCmd(app, command string) string {
	switch {
	case app != "" && command != "":
		return " " + command + " " + app
	case app != "":
		return " " + app
	}
	return ""
}

func ago(secs float64) string {
	d := time.Duration(secs * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func oneLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}
