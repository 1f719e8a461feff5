// Package telemetry is the daemon's metrics and health: Prometheus
// collectors on a registry the caller owns, a Health tracker that tells a
// wedged agent from a busy one, and the HTTP handler serving /metrics and
// /healthz. It keeps no global state: main builds the registry, the
// Metrics and the Health, and hands the daemon's hooks to them.
package telemetry

import (
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

// Daemon states, as the daemon tells its state hooks
// (lifecycle.StateHook), plus the one before the daemon's first report.
const (
	StateStarting   = "starting"
	StatePolling    = "polling"
	StateConverging = "converging"
	StateBackingOff = "backing-off"
	StateStopped    = "stopped"
)

var states = []string{StateStarting, StatePolling, StateConverging, StateBackingOff, StateStopped}

// UnknownType is the type label of a message whose event type is not one
// of lifecycle's (not an event, or refused before its type was read). It
// keeps the label's values bounded whatever arrives on the queue.
const UnknownType = "unknown"

var eventTypes = map[string]bool{
	lifecycle.TypeSetup: true, lifecycle.TypeConfigure: true, lifecycle.TypeDeploy: true,
	lifecycle.TypeUndeploy: true, lifecycle.TypeShutdown: true, lifecycle.TypeExecuteRecipes: true,
	lifecycle.TypeUpdateCustomCookbooks: true,
}

// TypeLabel is t when it is a lifecycle event type, else UnknownType.
func TypeLabel(t string) string {
	if eventTypes[t] {
		return t
	}
	return UnknownType
}

// DurationBuckets are the run duration histogram's buckets: a converge
// takes from under a second (nothing to change) to tens of minutes (a
// first setup installing packages).
var DurationBuckets = []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// Metrics are the daemon's Prometheus collectors. Its methods are safe for
// concurrent use.
type Metrics struct {
	received, refused, skipped, superseded *prometheus.CounterVec
	runs                                   *prometheus.CounterVec
	duration                               *prometheus.HistogramVec
	lastSuccess                            *prometheus.GaugeVec
	resUpdated, resFailed                  *prometheus.CounterVec
	receiveErrors, receiveStalls           prometheus.Counter
	state                                  *prometheus.GaugeVec
	backingOff                             prometheus.Gauge
	lastPoll                               prometheus.Gauge
	buildInfo                              *prometheus.GaugeVec
}

// NewMetrics registers the daemon's collectors on reg. version is the
// agent's version (the build_info label).
func NewMetrics(reg prometheus.Registerer, version string) (*Metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "stackagent", Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "stackagent", Name: name, Help: help}, labels)
	}
	m := &Metrics{
		received:   counter("events_received_total", "Messages received from the event source, by event type (unknown: not an event, or refused before its type was read).", "type"),
		refused:    counter("events_refused_total", "Events refused without a run (malformed, unknown version or type, missing fields), by event type.", "type"),
		skipped:    counter("events_skipped_total", "Events skipped because they are not for this instance (stack, layers, instances), by event type.", "type"),
		superseded: counter("events_superseded_total", "Events answered superseded without a run (a configure older than the newest one waiting, or an event older than one already run for its state key), by event type.", "type"),
		runs:       counter("runs_total", "Runs finished, by event type and status (success, failed).", "type", "status"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "stackagent", Name: "run_duration_seconds",
			Help: "Duration of finished runs, by event type.", Buckets: DurationBuckets}, []string{"type"}),
		lastSuccess: gauge("last_successful_run_timestamp_seconds", "Unix time the last successful run of each event type ended.", "type"),
		resUpdated:  counter("resources_updated_total", "Resources a run changed, by event type and resource kind.", "type", "kind"),
		resFailed:   counter("resources_failed_total", "Resources that failed in a run (failures ignored by ignore_failure excluded), by event type and resource kind.", "type", "kind"),
		receiveErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "stackagent", Name: "receive_errors_total",
			Help: "Failed receives from the event source (SQS ReceiveMessage errors, inbox watcher failures)."}),
		receiveStalls: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "stackagent", Name: "receive_stalls_total",
			Help: "Receives the event source did not answer within their deadline (SQS: wait_seconds + 10 s), also counted in receive_errors_total."}),
		state: gauge("state", "1 for the daemon's current state (starting, polling, converging, backing-off, stopped), 0 for the others.", "state"),
		backingOff: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "stackagent", Name: "backing_off",
			Help: "1 while the daemon backs off after failed receives, else 0."}),
		lastPoll: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "stackagent", Name: "last_poll_timestamp_seconds",
			Help: "Unix time the last receive from the event source completed without error."}),
		buildInfo: gauge("build_info", "Always 1; the labels say which agent build runs.", "version", "goversion", "revision"),
	}
	for _, c := range []prometheus.Collector{m.received, m.refused, m.skipped, m.superseded, m.runs, m.duration,
		m.lastSuccess, m.resUpdated, m.resFailed, m.receiveErrors, m.receiveStalls, m.state, m.backingOff, m.lastPoll, m.buildInfo} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.buildInfo.WithLabelValues(version, runtime.Version(), revision()).Set(1)
	m.SetState(StateStarting)
	return m, nil
}

// revision is the VCS revision the binary was built from, if recorded.
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// EventReceived counts one message received from the source.
func (m *Metrics) EventReceived(eventType string) {
	m.received.WithLabelValues(TypeLabel(eventType)).Inc()
}

// ObserveResult counts what became of an event: a run (success, failed)
// with its duration, or a refusal, skip or supersession.
func (m *Metrics) ObserveResult(r *lifecycle.Result) {
	t := TypeLabel(r.EventType)
	switch r.Status {
	case lifecycle.StatusSuccess, lifecycle.StatusFailed:
		m.runs.WithLabelValues(t, string(r.Status)).Inc()
		if d := r.End.Sub(r.Start); d >= 0 {
			m.duration.WithLabelValues(t).Observe(d.Seconds())
		}
		if r.Status == lifecycle.StatusSuccess {
			m.lastSuccess.WithLabelValues(t).Set(float64(r.End.UnixNano()) / 1e9)
		}
	case lifecycle.StatusRefused:
		m.refused.WithLabelValues(t).Inc()
	case lifecycle.StatusSkipped:
		m.skipped.WithLabelValues(t).Inc()
	case lifecycle.StatusSuperseded:
		m.superseded.WithLabelValues(t).Inc()
	}
}

// ObserveReport counts a run's updated and failed resources by kind. A
// resource that reports several actions counts once per status.
func (m *Metrics) ObserveReport(eventType string, rep *recipes.Report) {
	if rep == nil {
		return
	}
	t := TypeLabel(eventType)
	type key struct {
		status string
		res    any
	}
	seen := map[key]bool{}
	for i := range rep.Resources {
		rr := &rep.Resources[i]
		var c *prometheus.CounterVec
		switch {
		case rr.Status == recipes.StatusUpdated:
			c = m.resUpdated
		case rr.Status == recipes.StatusFailed && !rr.IgnoredFailure:
			c = m.resFailed
		default:
			continue
		}
		k := key{rr.Status, rr.ID}
		if r := rr.Resource(); r != nil {
			k.res = r
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		c.WithLabelValues(t, rr.Kind).Inc()
	}
}

// ReceiveError counts a failed receive.
func (m *Metrics) ReceiveError() { m.receiveErrors.Inc() }

// ReceiveStall counts a receive that hit its deadline (lifecycle.ErrStalled).
func (m *Metrics) ReceiveStall() { m.receiveStalls.Inc() }

// Polled records a receive that completed without error.
func (m *Metrics) Polled(at time.Time) { m.lastPoll.Set(float64(at.UnixNano()) / 1e9) }

// SetState makes state the current one of the state gauge.
func (m *Metrics) SetState(state string) {
	for _, s := range states {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(s).Set(v)
	}
}

// BackingOff sets the back-off gauge.
func (m *Metrics) BackingOff(on bool) {
	if on {
		m.backingOff.Set(1)
	} else {
		m.backingOff.Set(0)
	}
}
