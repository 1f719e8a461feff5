package recipes

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// Exit codes of a run, after Chef's RFC 062.
const (
	ExitSuccess         = 0
	ExitFailure         = 1
	ExitSIGINT          = 2
	ExitSIGTERM         = 3
	ExitRebootScheduled = 35
	ExitRebootNeeded    = 37
)

// Resource statuses in a report.
const (
	StatusUpdated  = "updated"
	StatusUpToDate = "up-to-date"
	StatusSkipped  = "skipped"
	StatusFailed   = "failed"
	// StatusUnknown is a why-run resource whose state cannot be told because
	// an earlier resource would have changed the host first.
	StatusUnknown = "unknown"
)

// ResourceReport is one action of one resource in a run.
type ResourceReport struct {
	ID             string   `json:"id"`
	Kind           string   `json:"kind"`
	Name           string   `json:"name"`
	Action         string   `json:"action"`
	Status         string   `json:"status"`
	Changes        []string `json:"changes,omitempty"`
	Diffs          []string `json:"diffs,omitempty"`
	SkippedBy      string   `json:"skipped_by,omitempty"`
	NotifiedBy     string   `json:"notified_by,omitempty"`
	Error          string   `json:"error,omitempty"`
	IgnoredFailure bool     `json:"ignored_failure,omitempty"`
	QuietFailure   bool     `json:"quiet_failure,omitempty"`
	Sensitive      bool     `json:"sensitive,omitempty"`
	Cookbook       string   `json:"cookbook,omitempty"`
	Recipe         string   `json:"recipe,omitempty"`
	Source         string   `json:"source,omitempty"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	Attempts       int      `json:"attempts,omitempty"`
	// Depth is 1 for a resource of a custom resource's action, 2 for one
	// nested deeper…; 0 for the run's own resources.
	Depth int `json:"depth,omitempty"`

	resource    *Resource
	declaration string // the resource's properties, redacted (failures)
}

// Resource is the resource the entry reports on.
func (r *ResourceReport) Resource() *Resource { return r.resource }

// Report is the machine-readable record of a run (--report FILE, the
// daemon's runs/ directory).
type Report struct {
	Version          int              `json:"version"`
	Status           string           `json:"status"` // success, failure, interrupted
	WhyRun           bool             `json:"why_run"`
	RunList          []string         `json:"run_list"`
	ExpandedRunList  []string         `json:"expanded_run_list"`
	StartTime        time.Time        `json:"start_time"`
	EndTime          time.Time        `json:"end_time"`
	ElapsedSeconds   float64          `json:"elapsed_seconds"`
	TotalResources   int              `json:"total_resources"`
	UpdatedResources int              `json:"updated_resources"`
	Resources        []ResourceReport `json:"resources"`
	Error            string           `json:"error,omitempty"`
	Errors           []string         `json:"errors,omitempty"`
	Reboot           string           `json:"reboot,omitempty"` // "", "needed", "scheduled"
	RebootReason     string           `json:"reboot_reason,omitempty"`
	ExitCode         int              `json:"exit_code"`
}

func newReport(o *Options) *Report {
	rep := &Report{Version: 1, WhyRun: o.WhyRun, StartTime: o.Now().UTC(), Resources: []ResourceReport{}}
	for _, it := range o.RunList {
		rep.RunList = append(rep.RunList, it.String())
	}
	return rep
}

// finish sets the end time, status and exit code.
func (rep *Report) finish(now time.Time, err error, reboot *rebootRequest) {
	rep.EndTime = now.UTC()
	rep.ElapsedSeconds = rep.EndTime.Sub(rep.StartTime).Seconds()
	seen := map[*Resource]bool{}
	for _, r := range rep.Resources {
		if r.Status == StatusUpdated && r.Depth == 0 && !seen[r.resource] {
			seen[r.resource] = true
			rep.UpdatedResources++
		}
	}
	switch {
	case err == nil:
		rep.Status, rep.ExitCode = "success", ExitSuccess
	case errors.Is(err, context.Canceled):
		rep.Status, rep.ExitCode = "interrupted", ExitSIGINT
		rep.Error = err.Error()
	case errors.Is(err, ErrInterrupted):
		rep.Status, rep.ExitCode = "interrupted", ExitSIGTERM
		rep.Error = err.Error()
	default:
		rep.Status, rep.ExitCode = "failure", ExitFailure
		rep.Error = err.Error()
		var ce CompileErrors
		if errors.As(err, &ce) {
			for _, e := range ce {
				rep.Errors = append(rep.Errors, e.Error())
			}
		}
	}
	if err == nil && reboot != nil {
		rep.RebootReason = reboot.Reason
		if reboot.Now {
			rep.Reboot, rep.ExitCode = "scheduled", ExitRebootScheduled
		} else {
			rep.Reboot, rep.ExitCode = "needed", ExitRebootNeeded
		}
	}
}

// WriteFile writes the report as JSON, atomically.
func (rep *Report) WriteFile(file string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(file, append(b, '\n'), 0o600)
}
