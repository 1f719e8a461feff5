package telemetry

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestMetricsCountResults(t *testing.T) {
	t.Parallel()
	m, _ := newTestMetrics(t)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res := func(typ string, status lifecycle.Status, d time.Duration) *lifecycle.Result {
		return &lifecycle.Result{EventType: typ, Status: status, Start: start, End: start.Add(d)}
	}
	for _, typ := range []string{"configure", "configure", "configure", "setup", "no-such-type", ""} {
		m.EventReceived(typ)
	}
	m.ObserveResult(res("configure", lifecycle.StatusSuperseded, 0))
	m.ObserveResult(res("configure", lifecycle.StatusSuperseded, 0))
	m.ObserveResult(res("configure", lifecycle.StatusSuccess, 2*time.Second))
	m.ObserveResult(res("setup", lifecycle.StatusFailed, 90*time.Second))
	m.ObserveResult(res("configure", lifecycle.StatusSkipped, 0))
	m.ObserveResult(res("", lifecycle.StatusRefused, 0))
	m.ObserveResult(res("bogus", lifecycle.StatusRefused, 0))

	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.received.WithLabelValues("configure"), 3},
		{m.received.WithLabelValues("setup"), 1},
		{m.received.WithLabelValues(UnknownType), 2},
		{m.superseded.WithLabelValues("configure"), 2},
		{m.skipped.WithLabelValues("configure"), 1},
		{m.refused.WithLabelValues(UnknownType), 2},
		{m.runs.WithLabelValues("configure", "success"), 1},
		{m.runs.WithLabelValues("setup", "failed"), 1},
		{m.lastSuccess.WithLabelValues("configure"), float64(start.Add(2 * time.Second).Unix())},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: got %v, want %v", i, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.received); n != 3 {
		t.Errorf("received series: %d, want 3 (configure, setup, unknown)", n)
	}
	if n := testutil.CollectAndCount(m.lastSuccess); n != 1 {
		t.Errorf("a failed run must not set the last success: %d series", n)
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("duration series: %d", n)
	}
	want := "# HELP stackagent_run_duration_seconds Duration of finished runs, by event type.\n" +
		"# TYPE stackagent_run_duration_seconds histogram\n" + histogramText("configure", 2) + histogramText("setup", 90)
	if err := testutil.CollectAndCompare(m.duration, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// histogramText is the exposition of a run duration series holding one
// observation.
func histogramText(typ string, secs float64) string {
	var b strings.Builder
	for _, le := range append(append([]float64{}, DurationBuckets...), math.Inf(1)) {
		n := 0
		if secs <= le {
			n = 1
		}
		fmt.Fprintf(&b, "stackagent_run_duration_seconds_bucket{type=%q,le=%q} %d\n", typ, strconv.FormatFloat(le, 'g', -1, 64), n)
	}
	fmt.Fprintf(&b, "stackagent_run_duration_seconds_sum{type=%q} %g\nstackagent_run_duration_seconds_count{type=%q} 1\n", typ, secs, typ)
	return b.String()
}

func TestMetricsObserveReport(t *testing.T) {
	t.Parallel()
	m, _ := newTestMetrics(t)
	rep := &recipes.Report{Resources: []recipes.ResourceReport{
		{ID: "file[/etc/a]", Kind: "file", Status: recipes.StatusUpdated},
		{ID: "file[/etc/a]", Kind: "file", Status: recipes.StatusUpdated}, // a second action of the same resource
		{ID: "file[/etc/b]", Kind: "file", Status: recipes.StatusUpdated},
		{ID: "service[apache2]", Kind: "service", Status: recipes.StatusUpdated},
		{ID: "package[x]", Kind: "package", Status: recipes.StatusUpToDate},
		{ID: "execute[boom]", Kind: "execute", Status: recipes.StatusFailed},
		{ID: "execute[meh]", Kind: "execute", Status: recipes.StatusFailed, IgnoredFailure: true},
		{ID: "template[t]", Kind: "template", Status: recipes.StatusSkipped},
	}}
	m.ObserveReport("deploy", rep)
	m.ObserveReport("deploy", nil)
	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.resUpdated.WithLabelValues("deploy", "file"), 2},
		{m.resUpdated.WithLabelValues("deploy", "service"), 1},
		{m.resFailed.WithLabelValues("deploy", "execute"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%v: got %v, want %v", c.c, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.resUpdated); n != 2 {
		t.Errorf("updated series %d, want 2 (up-to-date and skipped are not counted)", n)
	}
	if n := testutil.CollectAndCount(m.resFailed); n != 1 {
		t.Errorf("failed series %d", n)
	}
}

func TestMetricsStateAndReceive(t *testing.T) {
	t.Parallel()
	m, _ := newTestMetrics(t)
	if testutil.ToFloat64(m.state.WithLabelValues(StateStarting)) != 1 {
		t.Error("a new Metrics is starting")
	}
	m.SetState(StateBackingOff)
	m.BackingOff(true)
	m.ReceiveError()
	m.ReceiveError()
	m.ReceiveStall()
	if got := testutil.ToFloat64(m.receiveStalls); got != 1 {
		t.Errorf("receive stalls %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.state); n != len(states) {
		t.Errorf("state series %d, want one per state", n)
	}
	for _, s := range states {
		want := 0.0
		if s == StateBackingOff {
			want = 1
		}
		if got := testutil.ToFloat64(m.state.WithLabelValues(s)); got != want {
			t.Errorf("state %s = %v", s, got)
		}
	}
	if testutil.ToFloat64(m.backingOff) != 1 || testutil.ToFloat64(m.receiveErrors) != 2 {
		t.Error("back-off or receive errors")
	}
	m.SetState(StatePolling)
	m.BackingOff(false)
	at := time.Unix(1700000000, 500_000_000)
	m.Polled(at)
	if testutil.ToFloat64(m.backingOff) != 0 || testutil.ToFloat64(m.lastPoll) != 1700000000.5 {
		t.Error("back-off cleared, last poll")
	}
}

func TestMetricsBuildInfo(t *testing.T) {
	t.Parallel()
	m, _ := newTestMetrics(t)
	if n := testutil.CollectAndCount(m.buildInfo); n != 1 {
		t.Fatalf("build info series %d", n)
	}
	if got := testutil.ToFloat64(m.buildInfo); got != 1 {
		t.Errorf("build info %v", got)
	}
}

// TestMetricsLint runs promlint over every metric with a series in it.
func TestMetricsLint(t *testing.T) {
	t.Parallel()
	m, reg := newTestMetrics(t)
	m.EventReceived("deploy")
	m.ObserveResult(&lifecycle.Result{EventType: "deploy", Status: "success", Start: time.Now(), End: time.Now()})
	for _, s := range []lifecycle.Status{lifecycle.StatusFailed, lifecycle.StatusRefused, lifecycle.StatusSkipped, lifecycle.StatusSuperseded} {
		m.ObserveResult(&lifecycle.Result{EventType: "deploy", Status: s})
	}
	m.ObserveReport("deploy", &recipes.Report{Resources: []recipes.ResourceReport{{ID: "a", Kind: "file", Status: "updated"}, {ID: "b", Kind: "file", Status: "failed"}}})
	m.ReceiveError()
	m.Polled(time.Now())
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n, _ := testutil.GatherAndCount(reg); n < 14 {
		t.Errorf("only %d series gathered", n)
	}
	for _, c := range []prometheus.Collector{m.received, m.runs, m.duration, m.resUpdated, m.state} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil || len(problems) > 0 {
			t.Errorf("CollectAndLint: %v %v", problems, err)
		}
	}
}

func TestNewMetricsTwiceOnOneRegistryFails(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg, "x"); err == nil {
		t.Fatal("registering twice must fail")
	}
}
