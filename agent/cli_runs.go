package main

import (
	"path/filepath"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// recordCLIRun keeps the result of a converge started from the command
// line (deploy, rollback) in state_dir/runs, as the daemon keeps an
// event's: status lists it, and the daemon's /healthz shows it as the last
// run when it is the newest.
func recordCLIRun(cfg *Config, id lifecycle.Identity, ev *lifecycle.Event, out *lifecycle.Outcome, start, end time.Time) (*lifecycle.Result, error) {
	r := &lifecycle.Result{EventID: ev.ID, EventType: ev.Type, App: ev.App, Command: ev.Command,
		InstanceID: id.InstanceID, Stack: id.Stack, Status: out.Status, ExitCode: out.ExitCode,
		RunList: out.RunList, Start: start.UTC(), End: end.UTC(), Updated: out.Updated, Total: out.Total,
		Output: lifecycle.Tail(out.Output, 2048)}
	if out.Status == lifecycle.StatusInterrupted {
		r.Status = lifecycle.StatusFailed
	}
	if out.Err != nil && r.Status != lifecycle.StatusSuccess {
		r.Reason = out.Err.Error()
	}
	store := &lifecycle.ResultStore{Dir: filepath.Join(cfg.StateDir, "runs"), Keep: cfg.KeepRuns}
	_, err := store.Save(r)
	return r, err
}
