package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// These tests drive a real Daemon against fauxqs with a converger that
// records what it ran: the ordering rule (newest wins, across restarts and
// redeliveries) and storms (many configures, few runs).

// recorder is a Converger that records each run's event and attribute v.
// With gate set, each run first says it started on started and waits for
// gate to be closed.
type recorder struct {
	delay         time.Duration
	started, gate chan struct{}
	mu            sync.Mutex
	runs          []string // "type id v"
}

func (r *recorder) Converge(_ context.Context, job *Job) *Outcome {
	if r.gate != nil {
		select {
		case r.started <- struct{}{}:
		default:
		}
		<-r.gate
	}
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, fmt.Sprintf("%s %s %v", job.Event.Type, job.Event.ID, job.Event.Attributes["v"]))
	return &Outcome{Status: StatusSuccess}
}

func (r *recorder) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.runs...)
}

// results collects the daemon's results by event id.
type results struct {
	mu   sync.Mutex
	byID map[string]*Result
}

func (rs *results) add(r *Result) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.byID[r.EventID] = r
}

func (rs *results) get(id string) *Result {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.byID[id]
}

func (rs *results) count(status Status) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := 0
	for _, r := range rs.byID {
		if status == "" || r.Status == status {
			n++
		}
	}
	return n
}

type orderEnv struct {
	srv   *sqstest.Server
	queue string
	state string
	conv  *recorder
	res   *results
	// confirm is the daemon's DrainConfirm (as the agent sets it for SQS).
	confirm time.Duration
}

func newOrderEnv(t *testing.T, delay time.Duration) *orderEnv {
	srv := sqstest.Shared(t)
	return &orderEnv{srv: srv, queue: srv.CreateQueue(t, testQueueName(t), nil), state: t.TempDir(),
		conv: &recorder{delay: delay}, res: &results{byID: map[string]*Result{}}}
}

// start runs a daemon on the queue until stop (or the test's end).
func (e *orderEnv) start(t *testing.T, settle time.Duration) (stop func()) {
	t.Helper()
	src := newTestSource(t, e.srv, e.queue, 30*time.Second)
	j, err := OpenJournal(e.state+"/journal.jsonl", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Source: src, Identity: Identity{InstanceID: "i-1", Stack: "prod", Layers: []string{"web"}},
		Converger: e.conv, Journal: j, StateDir: e.state, ConfigureSettle: settle, Hooks: resultHooks(e.res.add), DrainConfirm: e.confirm, Log: testLog(t),
		BaseAttributes: func() map[string]any {
			return map[string]any{"stackagent": map[string]any{"layers": map[string]any{"web": map[string]any{
				"recipes": map[string]any{"configure": []any{"c"}, "deploy": []any{"d"}, "undeploy": []any{"u"}}}}}}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; j.Close() }) }
	t.Cleanup(stop)
	return stop
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// send sends an event of typ issued n seconds after t0 with attribute v.
func (e *orderEnv) send(t *testing.T, id, typ, app string, n int, seq uint64) {
	t.Helper()
	ev := map[string]any{"version": 1, "id": id, "type": typ, "issued_at": t0.Add(time.Duration(n) * time.Second),
		"attributes": map[string]any{"v": n}}
	if app != "" {
		ev["app"] = app
	}
	if seq > 0 {
		ev["sequence"] = seq
	}
	b, _ := json.Marshal(ev)
	e.srv.Send(t, e.queue, string(b))
}

func (e *orderEnv) waitResults(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for e.res.count("") < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d results of %d; runs %q", e.res.count(""), n, e.conv.ran())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *orderEnv) wantSuperseded(t *testing.T, id, by string) {
	t.Helper()
	r := e.res.get(id)
	if r == nil || r.Status != StatusSuperseded || !strings.Contains(r.Reason, by) {
		t.Fatalf("result of %s: %+v, want superseded naming %s", id, r, by)
	}
}

func (e *orderEnv) wantQueueEmpty(t *testing.T) {
	t.Helper()
	if m := e.srv.ReceiveOne(t, e.queue, time.Second); m != nil {
		t.Fatalf("a message is still on the queue: %s", *m.Body)
	}
}

// TestNewestConfigureWinsOutOfOrder: a configure older than the one
// applied is refused, superseded naming the newer, also after a restart;
// deploys are ordered per app; a controller sequence orders over
// issued_at.
func TestNewestConfigureWinsOutOfOrder(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	stop := e.start(t, 0)
	e.send(t, "c-new", TypeConfigure, "", 20, 0)
	e.waitResults(t, 1)
	e.send(t, "c-old", TypeConfigure, "", 10, 0)
	e.waitResults(t, 2)
	e.wantSuperseded(t, "c-old", "c-new")
	stop()
	// The stopped daemon's last long poll (1 s) may still be open on the
	// server, which would hand it the next message: let it end.
	time.Sleep(1500 * time.Millisecond)

	// A restart keeps the watermark (state_dir/applied.json).
	e.start(t, 0)
	e.send(t, "c-older", TypeConfigure, "", 5, 0)
	e.send(t, "d-a-new", TypeDeploy, "a", 30, 0)
	e.waitResults(t, 4)
	e.send(t, "d-a-old", TypeDeploy, "a", 25, 0)
	e.send(t, "d-b-old", TypeDeploy, "b", 25, 0)
	e.waitResults(t, 6)
	e.wantSuperseded(t, "c-older", "c-new")
	e.wantSuperseded(t, "d-a-old", "d-a-new")
	if r := e.res.get("d-b-old"); r.Status != StatusSuccess {
		t.Fatalf("deploy of another app: %+v", r)
	}
	// Sequence beats issued_at when both carry one.
	e.send(t, "c-seq2", TypeConfigure, "", 40, 2)
	e.waitResults(t, 7)
	e.send(t, "c-seq1", TypeConfigure, "", 50, 1)
	e.waitResults(t, 8)
	e.wantSuperseded(t, "c-seq1", "c-seq2")
	want := "configure c-new 20|deploy d-a-new 30|deploy d-b-old 25|configure c-seq2 40"
	if got := strings.Join(e.conv.ran(), "|"); got != want {
		t.Fatalf("runs %q, want %q", got, want)
	}
	e.wantQueueEmpty(t)
}

// TestOlderConfigureRedeliveredAfterVisibilityTimeout: an older configure
// taken by a receiver that never finished it (a batch held past its
// visibility timeout) comes back after the newer one ran: superseded,
// deleted, not run.
func TestOlderConfigureRedeliveredAfterVisibilityTimeout(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	e.send(t, "c-old", TypeConfigure, "", 10, 0)
	stale := newTestSource(t, e.srv, e.queue, 2*time.Second)
	if m := receiveOne(t, stale, 3); m == nil {
		t.Fatal("no message")
	}
	e.start(t, 0)
	e.send(t, "c-new", TypeConfigure, "", 20, 0)
	e.waitResults(t, 2) // c-old is back 2 s after the stale receive
	e.wantSuperseded(t, "c-old", "c-new")
	if got := strings.Join(e.conv.ran(), "|"); got != "configure c-new 20" {
		t.Fatalf("runs %q", got)
	}
	e.wantQueueEmpty(t)
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
