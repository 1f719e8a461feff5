package heal

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are auto heal's Prometheus collectors. A nil *Metrics counts
// nothing.
type Metrics struct {
	repairs    *prometheus.CounterVec
	up         *prometheus.GaugeVec
	drift      *prometheus.CounterVec
	handedBack prometheus.Gauge
	checks     prometheus.Counter
}

// NewMetrics registers the collectors on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "stackagent", Name: "repairs_total",
			Help: "Watchdog repairs (restarts) of a watched service, by result (success, failed)."}, []string{"service", "result"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "stackagent", Name: "watched_service_up",
			Help: "1 when the watched service's last check passed, 0 when not."}, []string{"service"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "stackagent", Name: "drift_runs_total",
			Help: "Periodic (drift correction) configure runs, by whether they changed resources (true: drift found)."}, []string{"changed"}),
		handedBack: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "stackagent", Name: "handed_back",
			Help: "1 once the watchdog has marked the instance unhealthy in its Auto Scaling group."}),
		checks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "stackagent", Name: "watch_checks_total",
			Help: "Watchdog checks of watched services."}),
	}
	for _, c := range []prometheus.Collector{m.repairs, m.up, m.drift, m.handedBack, m.checks} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.drift.WithLabelValues("true")
	m.drift.WithLabelValues("false")
	return m, nil
}

func (m *Metrics) repaired(service string, ok bool) {
	if m == nil {
		return
	}
	res := "success"
	if !ok {
		res = "failed"
	}
	m.repairs.WithLabelValues(service, res).Inc()
}

func (m *Metrics) checked(service string, up bool) {
	if m == nil {
		return
	}
	m.checks.Inc()
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(service).Set(v)
}

func (m *Metrics) unwatched(service string) {
	if m != nil {
		m.up.DeleteLabelValues(service)
	}
}

func (m *Metrics) handBack(on bool) {
	if m == nil {
		return
	}
	if on {
		m.handedBack.Set(1)
	} else {
		m.handedBack.Set(0)
	}
}

// DriftRun counts one periodic run.
func (m *Metrics) DriftRun(changed bool) {
	if m != nil {
		m.drift.WithLabelValues(strconv.FormatBool(changed)).Inc()
	}
}
