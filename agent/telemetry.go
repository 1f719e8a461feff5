package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stackagent/stackagent/internal/heal"
	"github.com/stackagent/stackagent/internal/telemetry"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

// daemonTelemetry is the daemon's metrics and health. It outlives config
// reloads: counters keep counting across them, and the endpoint moves only
// when metrics_address changes.
type daemonTelemetry struct {
	metrics *telemetry.Metrics
	health  *telemetry.Health
	heal    *heal.Metrics
	handler http.Handler

	mu   sync.Mutex
	addr string
	stop func()
	runs *lifecycle.ResultStore // the daemon's runs/, for healthSync
}

// newDaemonTelemetry registers the daemon's collectors, and the Go runtime
// and process ones, on reg (owned by runDaemon).
func newDaemonTelemetry(reg *prometheus.Registry) (*daemonTelemetry, error) {
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	m, err := telemetry.NewMetrics(reg, version)
	if err != nil {
		return nil, err
	}
	hm, err := heal.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	h := telemetry.NewHealth(nil)
	h.Version = version
	return &daemonTelemetry{metrics: m, health: h, heal: hm, handler: telemetry.Handler(reg, h)}, nil
}

// metricsOff is true for the metrics_address values that disable the
// endpoint.
func metricsOff(addr string) bool { return addr == "" || addr == "off" }

// serve (re)starts the endpoint on addr, or stops it for "off". An
// address that cannot be bound (another agent's, or any other process's)
// is an error: at start the daemon refuses to run, so that it never runs
// without metrics while status reads another agent's health; on a reload
// the endpoint stays where it was, and the error says so.
func (t *daemonTelemetry) serve(ctx context.Context, addr string, log *slog.Logger) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if addr == t.addr && t.stop != nil {
		return nil
	}
	if metricsOff(addr) {
		t.close()
		log.Info("metrics and health endpoint off (metrics_address)")
		return nil
	}
	if t.stop != nil {
		// The old endpoint may hold the new port (an address spelled
		// differently): free it first, and come back to it on failure.
		old := t.addr
		t.close()
		if err := t.listen(ctx, addr, log); err != nil {
			if rerr := t.listen(ctx, old, log); rerr != nil {
				return fmt.Errorf("%w; the old address %s could not be bound again either: %v", err, old, rerr)
			}
			return fmt.Errorf("%w; still serving on %s", err, old)
		}
		return nil
	}
	return t.listen(ctx, addr, log)
}

// listen binds addr and serves on it. Callers hold t.mu.
func (t *daemonTelemetry) listen(ctx context.Context, addr string, log *slog.Logger) error {
	srv, err := telemetry.Listen(addr, t.healthSync(t.handler))
	if err != nil {
		why := "it cannot be bound"
		if errors.Is(err, syscall.EADDRINUSE) {
			why = "another process (another stackagent?) listens there: give each agent on a host its own metrics_address, or \"off\""
		}
		return fmt.Errorf("metrics_address %s: %s: %w", addr, why, err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx); err != nil {
			log.Error("metrics and health endpoint failed", "error", err)
		}
	}()
	t.addr, t.stop = addr, func() { cancel(); <-done }
	log.Info("serving /metrics and /healthz", "address", srv.Addr())
	return nil
}

// healthSync makes /healthz see the runs started from the command line
// (deploy, rollback), which land in runs/ without passing the daemon: the
// newest run kept there becomes the last result when it is newer.
func (t *daemonTelemetry) healthSync(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		runs := t.runs
		t.mu.Unlock()
		if r.URL.Path == "/healthz" && runs != nil {
			if last := runs.Last(1); len(last) == 1 {
				lr := t.health.Report().LastResult
				if lr == nil || last[0].End.After(lr.End) {
					t.health.ObserveResult(last[0])
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// close stops the endpoint, if any. Callers hold t.mu.
func (t *daemonTelemetry) close() {
	if t.stop != nil {
		t.stop()
	}
	t.addr, t.stop = "", nil
}

// shutdown stops the endpoint.
func (t *daemonTelemetry) shutdown() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.close()
}

// instrument counts the daemon's receives and the engine's reports; the
// daemon's state and results come through the metrics hook it returns.
func (t *daemonTelemetry) instrument(d *lifecycle.Daemon, e *engine) metricsHook {
	t.mu.Lock()
	t.runs = d.Results
	t.mu.Unlock()
	if e != nil {
		e.onReport = func(job *lifecycle.Job, rep *recipes.Report) { t.metrics.ObserveReport(job.Event.Type, rep) }
	}
	switch src := d.Source.(type) {
	case *lifecycle.SQSSource:
		d.Source = &observedSQS{src, t}
	case *lifecycle.InboxSource:
		d.Source = &observedInbox{src, t}
	}
	return metricsHook{t}
}

// received counts a receive's messages by event type, or its failure.
func (t *daemonTelemetry) received(ctx context.Context, msgs []*lifecycle.Message, err error) {
	now := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			if errors.Is(err, lifecycle.ErrStalled) {
				t.metrics.ReceiveStall()
			}
			t.metrics.ReceiveError()
			t.health.ReceiveFailed(err)
		}
		return
	}
	t.metrics.Polled(now)
	t.health.Polled()
	for _, m := range msgs {
		typ := telemetry.UnknownType
		if ev, perr := lifecycle.Parse(m.Body, now); perr == nil {
			typ = ev.Type
		}
		t.metrics.EventReceived(typ)
	}
}

// observedSQS is the SQS source, counted. Embedding the concrete source
// keeps its optional abilities (Extend, Release) visible to the daemon.
type observedSQS struct {
	*lifecycle.SQSSource
	t *daemonTelemetry
}

func (s *observedSQS) Receive(ctx context.Context) ([]*lifecycle.Message, error) {
	msgs, err := s.SQSSource.Receive(ctx)
	s.t.received(ctx, msgs, err)
	return msgs, err
}

// ReceiveWait is a drain's receive (storms), counted like Receive.
func (s *observedSQS) ReceiveWait(ctx context.Context, wait time.Duration) ([]*lifecycle.Message, error) {
	msgs, err := s.SQSSource.ReceiveWait(ctx, wait)
	s.t.received(ctx, msgs, err)
	return msgs, err
}

// inboxPollWindow ends an idle inbox receive as an SQS long poll ends, so
// that a completed poll proves the receive loop alive whatever the source.
const inboxPollWindow = 20 * time.Second

// observedInbox is the inbox source, counted (Release, Reject and
// RecordResult stay visible), its receives ended after inboxPollWindow.
type observedInbox struct {
	*lifecycle.InboxSource
	t *daemonTelemetry
}

func (s *observedInbox) Receive(ctx context.Context) ([]*lifecycle.Message, error) {
	pctx, cancel := context.WithTimeout(ctx, inboxPollWindow)
	defer cancel()
	msgs, err := s.InboxSource.Receive(pctx)
	s.t.received(ctx, msgs, err)
	return msgs, err
}

// ReceiveWait is a drain's receive (storms), counted like Receive.
func (s *observedInbox) ReceiveWait(ctx context.Context, wait time.Duration) ([]*lifecycle.Message, error) {
	msgs, err := s.InboxSource.ReceiveWait(ctx, wait)
	s.t.received(ctx, msgs, err)
	return msgs, err
}

var (
	_ lifecycle.Waiter             = (*observedSQS)(nil)
	_ lifecycle.Waiter             = (*observedInbox)(nil)
	_ lifecycle.VisibilityExtender = (*observedSQS)(nil)
	_ lifecycle.Releaser           = (*observedSQS)(nil)
	_ lifecycle.Rejecter           = (*observedInbox)(nil)
	_ lifecycle.ResultRecorder     = (*observedInbox)(nil)
	_ lifecycle.Releaser           = (*observedInbox)(nil)
)
