package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// The results of one event, for people (one line per host, a table of
// failures, a summary line) and for machines (--json).

// eventTargets is who an event waits for: the named instances, else a
// number of hosts (expect; 0 in event status without a record: whoever
// answered).
type eventTargets struct {
	eventID   string
	instances []string
	expect    int
}

// hostReport is one host's answer (or its absence), one JSON object per
// host.
type hostReport struct {
	Instance string `json:"instance"`
	// Status: the agent's (success, failed, refused, superseded, skipped)
	// or "missing".
	Status lifecycle.Status `json:"status"`
	// Targeted is false for a host that answered without being one of
	// the event's --instance values (it does not count).
	Targeted        bool    `json:"targeted"`
	ExitCode        int     `json:"exit_code"`
	Reason          string  `json:"reason,omitempty"`
	Updated         int     `json:"resources_updated"`
	Total           int     `json:"resources_total"`
	DurationSeconds float64 `json:"duration_seconds"`
	End             string  `json:"end,omitempty"`
	OutputTail      string  `json:"output_tail,omitempty"`

	result *lifecycle.Result
}

// reportCounts is the summary line.
type reportCounts struct {
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	Superseded int `json:"superseded"`
	Skipped    int `json:"skipped"`
	Missing    int `json:"missing"`
	// NotTargeted: answers from hosts not among the event's instances.
	NotTargeted int `json:"not_targeted,omitempty"`
}

// eventReport is what --wait and event status print.
type eventReport struct {
	EventID  string        `json:"event_id"`
	Expected int           `json:"expected"`
	Complete bool          `json:"complete"`
	Counts   reportCounts  `json:"counts"`
	Hosts    []*hostReport `json:"hosts"`
}

// statusMissing is the status of a targeted host that has not answered.
const statusMissing lifecycle.Status = "missing"

func buildReport(t eventTargets, results []*lifecycle.Result) *eventReport {
	rep := &eventReport{EventID: t.eventID, Hosts: []*hostReport{}}
	answered := map[string]bool{}
	for _, r := range results {
		targeted := len(t.instances) == 0 || slices.Contains(t.instances, r.InstanceID)
		rep.Hosts = append(rep.Hosts, hostOf(r, targeted))
		answered[r.InstanceID] = true
		if !targeted {
			rep.Counts.NotTargeted++
			continue
		}
		switch r.Status {
		case lifecycle.StatusSuccess:
			rep.Counts.Succeeded++
		case lifecycle.StatusSuperseded:
			rep.Counts.Superseded++
		case lifecycle.StatusSkipped:
			rep.Counts.Skipped++
		default: // failed, refused, or a status this version does not know
			rep.Counts.Failed++
		}
	}
	counted := len(results) - rep.Counts.NotTargeted
	switch {
	case len(t.instances) > 0:
		rep.Expected = len(t.instances)
		for _, id := range t.instances {
			if !answered[id] {
				rep.Hosts = append(rep.Hosts, &hostReport{Instance: id, Status: statusMissing, Targeted: true})
				rep.Counts.Missing++
			}
		}
	default:
		rep.Expected = max(t.expect, counted)
		rep.Counts.Missing = rep.Expected - counted
	}
	rep.Complete = rep.Counts.Missing == 0
	return rep
}

func hostOf(r *lifecycle.Result, targeted bool) *hostReport {
	h := &hostReport{Instance: r.InstanceID, Status: r.Status, Targeted: targeted, ExitCode: r.ExitCode,
		Reason: r.Reason, Updated: r.Updated, Total: r.Total, DurationSeconds: runTime(r).Seconds(), result: r}
	if !r.End.IsZero() {
		h.End = r.End.UTC().Format(time.RFC3339)
	}
	if h.failed() {
		h.OutputTail = lifecycle.Tail(r.Output, 2048)
	}
	return h
}

func (h *hostReport) failed() bool {
	switch h.Status {
	case lifecycle.StatusSuccess, lifecycle.StatusSuperseded, lifecycle.StatusSkipped, statusMissing:
		return false
	}
	return h.Targeted
}

func (rep *eventReport) complete() bool { return rep.Complete }

// ok is true when every targeted host answered and none failed.
func (rep *eventReport) ok() bool { return rep.Complete && rep.Counts.Failed == 0 }

// summary is the one-line count.
func (rep *eventReport) summary() string {
	c := rep.Counts
	s := fmt.Sprintf("event %s: %d succeeded, %d failed, %d superseded, %d skipped, %d missing (%d expected)",
		printable(rep.EventID), c.Succeeded, c.Failed, c.Superseded, c.Skipped, c.Missing, rep.Expected)
	if c.NotTargeted > 0 {
		s += fmt.Sprintf("; %d answer(s) from hosts not targeted, not counted", c.NotTargeted)
	}
	return s
}

// missingHosts names the targeted hosts that did not answer.
func (rep *eventReport) missingHosts() string {
	var names []string
	for _, h := range rep.Hosts {
		if h.Status == statusMissing {
			names = append(names, printable(h.Instance))
		}
	}
	if len(names) == 0 {
		if rep.Counts.Missing > 0 {
			return fmt.Sprintf("%d host(s), not named: give --instance to name the hosts an event targets", rep.Counts.Missing)
		}
		return ""
	}
	return strings.Join(names, ", ")
}

// printText writes the failures table (host, status, exit code, reason,
// then each one's log tail) and the summary line.
func (rep *eventReport) printText(w io.Writer) {
	var failed []*hostReport
	for _, h := range rep.Hosts {
		if h.failed() {
			failed = append(failed, h)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FAILED HOST\tSTATUS\tEXIT\tREASON")
		for _, h := range failed {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", printable(h.Instance), printable(string(h.Status)), h.ExitCode, oneLine(printable(h.Reason), 100))
		}
		tw.Flush()
		for _, h := range failed {
			if tail := lastLines(h.OutputTail, 15); tail != "" {
				fmt.Fprintf(w, "\n%s, last lines of its log:\n", printable(h.Instance))
				for line := range strings.SplitSeq(tail, "\n") {
					fmt.Fprintf(w, "    | %s\n", printable(line))
				}
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, rep.summary())
	if m := rep.missingHosts(); m != "" {
		fmt.Fprintf(w, "missing: %s\n", m)
	}
}

// printJSON writes the report as one JSON document.
func (rep *eventReport) printJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// formatResult is one result's line: instance, status, exit code,
// resources updated/total, duration, and the reason when there is one.
func formatResult(r *lifecycle.Result) string {
	s := fmt.Sprintf("%s  %s  exit %d  %d/%d resources updated  %s",
		printable(orDefault(r.InstanceID, "(no instance id)")), printable(string(r.Status)), r.ExitCode, r.Updated, r.Total, runTime(r).Round(100*time.Millisecond))
	if r.Reason != "" {
		s += "  " + oneLine(printable(r.Reason), 200)
	}
	return s
}

func runTime(r *lifecycle.Result) time.Duration {
	d := r.End.Sub(r.Start)
	if r.Start.IsZero() || r.End.IsZero() || d < 0 {
		return 0
	}
	return d
}

// printable replaces control characters (terminal escapes from a hostile
// reply) other than newline and tab with U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= 0x20 && r != 0x7f && (r < 0x80 || r > 0x9f)) {
			return r
		}
		return '\uFFFD'
	}, s)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
