package heal

import "time"

// Status is auto heal as /healthz and stackagent status show it.
type Status struct {
	// Watching is false when no service is watched.
	Watching bool `json:"watching"`
	// Paused: a converge runs; checks wait for it.
	Paused bool `json:"paused,omitempty"`
	// IntervalSeconds is the check interval.
	IntervalSeconds float64         `json:"interval_seconds"`
	Services        []ServiceStatus `json:"services"`
	// HandedBack: the instance was marked Unhealthy in its Auto Scaling
	// group; repairs have stopped.
	HandedBack       bool       `json:"handed_back"`
	HandedBackAt     *time.Time `json:"handed_back_at,omitempty"`
	HandedBackReason string     `json:"handed_back_reason,omitempty"`
	// EscalationError is why the instance could not be handed back
	// (off EC2, no permission); repairs go on.
	EscalationError string       `json:"escalation_error,omitempty"`
	Drift           *DriftStatus `json:"drift,omitempty"`
}

// ServiceStatus is one watched service.
type ServiceStatus struct {
	Name string `json:"name"`
	// Up is the last check's verdict (false before the first check).
	Up        bool       `json:"up"`
	Detail    string     `json:"detail,omitempty"`
	LastCheck *time.Time `json:"last_check,omitempty"`
	// Repairs and FailedRepairs count since the daemon started;
	// RepairsInWindow and FailedInWindow within repair_window.
	Repairs         int        `json:"repairs"`
	FailedRepairs   int        `json:"failed_repairs"`
	RepairsInWindow int        `json:"repairs_in_window"`
	FailedInWindow  int        `json:"failed_repairs_in_window"`
	NextRepairAfter *time.Time `json:"next_repair_after,omitempty"`
	LastRepair      *Event     `json:"last_repair,omitempty"`
	HTTPChecks      []string   `json:"http_checks,omitempty"`
}

// Status reports the watchdog's state now.
func (w *Watchdog) Status() *Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defaults()
	now := w.Now()
	cut := now.Add(-w.RepairWindow)
	st := &Status{Watching: len(w.svcs) > 0, Paused: w.paused, IntervalSeconds: w.Interval.Seconds(),
		Services: []ServiceStatus{}, EscalationError: w.escalation}
	if hb := w.handedBack; hb != nil {
		at := hb.At
		st.HandedBack, st.HandedBackAt, st.HandedBackReason = true, &at, hb.Reason
	}
	for _, n := range w.names() {
		s := w.svcs[n]
		ss := ServiceStatus{Name: n, Up: s.up, Detail: s.detail, Repairs: s.repairs, FailedRepairs: s.failed,
			RepairsInWindow: count(s.attempts, cut), FailedInWindow: count(s.failures, cut)}
		if s.checked {
			t := s.lastCheck.UTC()
			ss.LastCheck = &t
		}
		if s.nextRepair.After(now) {
			t := s.nextRepair.UTC()
			ss.NextRepairAfter = &t
		}
		if s.last != nil {
			e := *s.last
			ss.LastRepair = &e
		}
		for _, c := range s.spec.HTTP {
			host := c.Host
			if host == "" {
				host = "127.0.0.1"
			}
			ss.HTTPChecks = append(ss.HTTPChecks, c.Name+": http://"+host+c.Path)
		}
		st.Services = append(st.Services, ss)
	}
	return st
}

func count(ts []time.Time, cut time.Time) int {
	n := 0
	for _, t := range ts {
		if t.After(cut) {
			n++
		}
	}
	return n
}
