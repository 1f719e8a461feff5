package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Storms against fauxqs and the inbox: many configures, at most 2 runs,
// every other one answered superseded and deleted.

// storm sends n configures (v = 1..n), gap apart, and checks: every one
// answered, at most 2 runs, the last on the newest, the queue empty.
func storm(t *testing.T, e *orderEnv, n int, gap time.Duration) {
	t.Helper()
	for i := 1; i <= n; i++ {
		e.send(t, fmt.Sprintf("c-%02d", i), TypeConfigure, "", i, 0)
		time.Sleep(gap)
	}
	e.waitResults(t, n)
	runs := e.conv.ran()
	if len(runs) < 1 || len(runs) > 2 || runs[len(runs)-1] != fmt.Sprintf("configure c-%02d %d", n, n) {
		t.Fatalf("%d configures: runs %q, want at most 2, the last on c-%02d", n, runs, n)
	}
	if s := e.res.count(StatusSuperseded); s != n-len(runs) {
		t.Fatalf("%d superseded, want %d", s, n-len(runs))
	}
	e.wantQueueEmpty(t)
}

func TestConfigureStormBackToBack(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	e.start(t, time.Second)
	storm(t, e, 50, 0)
}

// A storm spread over a window (60 s in the field, scaled down to 2.5 s):
// configure_settle longer than the gaps makes it one burst.
func TestConfigureStormSpread(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	e.start(t, time.Second)
	storm(t, e, 50, 50*time.Millisecond)
}

// With a slow converge, the events that come during a run are drained
// after it: without any settle, 50 configures cost 2 runs. The converge is
// held until the storm is on the queue.
func TestConfigureStormSlowConverge(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	e.conv.started, e.conv.gate = make(chan struct{}, 1), make(chan struct{})
	e.confirm = time.Second
	e.start(t, 0)
	e.send(t, "c-01", TypeConfigure, "", 1, 0)
	<-e.conv.started
	for i := 2; i <= 50; i++ {
		e.send(t, fmt.Sprintf("c-%02d", i), TypeConfigure, "", i, 0)
	}
	close(e.conv.gate)
	e.waitResults(t, 50)
	if got := strings.Join(e.conv.ran(), "|"); got != "configure c-01 1|configure c-50 50" {
		t.Fatalf("runs %q, want c-01 then c-50", got)
	}
	if s := e.res.count(StatusSuperseded); s != 48 {
		t.Fatalf("%d superseded, want 48", s)
	}
	e.wantQueueEmpty(t)
}

// With a slow converge and configure_settle, a storm spread over the
// converge and after it still costs at most 2 runs.
func TestConfigureStormSlowConvergeSettle(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, time.Second)
	e.start(t, time.Second)
	storm(t, e, 50, 40*time.Millisecond)
}

// Without settle, a storm already waiting when the daemon looks is one run:
// the drain before the configure takes it all.
func TestConfigureStormWaitingDrained(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 0)
	for i := 1; i <= 50; i++ {
		e.send(t, fmt.Sprintf("c-%02d", i), TypeConfigure, "", i, 0)
	}
	e.start(t, 0)
	e.waitResults(t, 50)
	if got := e.conv.ran(); len(got) != 1 || got[0] != "configure c-50 50" {
		t.Fatalf("runs %q, want one on c-50", got)
	}
	e.wantQueueEmpty(t)
}

// TestConfigureStormInbox: the same storm through the local inbox.
func TestConfigureStormInbox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := NewInboxSource(filepath.Join(dir, "inbox"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	j, err := OpenJournal(filepath.Join(dir, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	conv, res := &recorder{}, &results{byID: map[string]*Result{}}
	d := &Daemon{Source: src, Identity: Identity{InstanceID: "i-1", Layers: []string{"web"}}, Converger: conv,
		Journal: j, StateDir: dir, ConfigureSettle: time.Second, Hooks: resultHooks(res.add), Log: testLog(t),
		BaseAttributes: func() map[string]any {
			return map[string]any{"stackagent": map[string]any{"layers": map[string]any{"web": map[string]any{
				"recipes": map[string]any{"configure": []any{"c"}}}}}}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 1; i <= 50; i++ {
		b, _ := json.Marshal(map[string]any{"version": 1, "id": fmt.Sprintf("c-%02d", i), "type": "configure",
			"issued_at": t0.Add(time.Duration(i) * time.Second), "attributes": map[string]any{"v": i}})
		tmp := filepath.Join(src.Dir, fmt.Sprintf(".c-%02d.tmp", i))
		if err := os.WriteFile(tmp, b, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(src.Dir, fmt.Sprintf("c-%02d.json", i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(60 * time.Second)
	for res.count("") < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("%d results; runs %q", res.count(""), conv.ran())
		}
		time.Sleep(20 * time.Millisecond)
	}
	runs := conv.ran()
	if len(runs) > 2 || runs[len(runs)-1] != "configure c-50 50" {
		t.Fatalf("runs %q, want at most 2, the last on c-50", runs)
	}
	left, _ := filepath.Glob(filepath.Join(src.Dir, "*.json"))
	processed, _ := filepath.Glob(filepath.Join(src.Dir, "processed", "c-*.result.json"))
	if len(left) != 0 || len(processed) != 50 {
		t.Fatalf("%d files left in the inbox, %d results in processed/", len(left), len(processed))
	}
}

// countingSource records the receive count of every delivery.
type countingSource struct {
	*SQSSource
	mu     sync.Mutex
	counts map[string]int // message id → highest receive count seen
}

func (s *countingSource) note(msgs []*Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.counts[m.ID] = max(s.counts[m.ID], m.ReceiveCount)
	}
}

func (s *countingSource) Receive(ctx context.Context) ([]*Message, error) {
	msgs, err := s.SQSSource.Receive(ctx)
	s.note(msgs)
	return msgs, err
}

func (s *countingSource) ReceiveWait(ctx context.Context, wait time.Duration) ([]*Message, error) {
	msgs, err := s.SQSSource.ReceiveWait(ctx, wait)
	s.note(msgs)
	return msgs, err
}

// TestHeldBatchStaysInvisible: events received together wait while the
// first converges for longer than the visibility timeout; heartbeats keep
// them hidden, so none is delivered a second time.
func TestHeldBatchStaysInvisible(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t, 3*time.Second)
	for _, app := range []string{"a", "b", "c"} {
		e.send(t, "d-"+app, TypeDeploy, app, 1, 0)
	}
	src := &countingSource{SQSSource: newTestSource(t, e.srv, e.queue, 2*time.Second), counts: map[string]int{}}
	j, err := OpenJournal(filepath.Join(e.state, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	d := &Daemon{Source: src, Identity: Identity{InstanceID: "i-1", Layers: []string{"web"}}, Converger: e.conv,
		Journal: j, StateDir: e.state, Hooks: resultHooks(e.res.add), Log: testLog(t), VisibilityExtend: 2 * time.Second,
		BaseAttributes: func() map[string]any {
			return map[string]any{"stackagent": map[string]any{"layers": map[string]any{"web": map[string]any{
				"recipes": map[string]any{"deploy": []any{"d"}}}}}}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e.waitResults(t, 3)
	src.mu.Lock()
	defer src.mu.Unlock()
	for id, n := range src.counts {
		if n != 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
	if got := len(e.conv.ran()); got != 3 {
		t.Fatalf("%d runs, want 3", got)
	}
}
