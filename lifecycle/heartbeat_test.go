package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// fakeExtender fails its first failN calls.
type fakeExtender struct {
	mu    sync.Mutex
	calls []time.Duration
	failN int
	log   *slog.Logger
}

func (f *fakeExtender) Extend(ctx context.Context, m *Message, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, d)
	if len(f.calls) <= f.failN {
		return errors.New("throttled")
	}
	return nil
}

func (f *fakeExtender) Logger() *slog.Logger { return f.log }

func (f *fakeExtender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// syncBuffer is a bytes.Buffer safe for the heartbeat goroutine's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHeartbeatLogsAndKeepsTrying(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	ext := &fakeExtender{failN: 2, log: slog.New(slog.NewTextHandler(&logs, nil))}
	stop := Heartbeat(context.Background(), ext, &Message{ID: "m1"}, 10*time.Millisecond, time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for ext.count() < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	n := ext.count()
	if n < 4 {
		t.Fatalf("%d extensions in 5 s, want at least 4", n)
	}
	time.Sleep(50 * time.Millisecond)
	if ext.count() != n {
		t.Fatal("extensions went on after stop returned")
	}
	if got := strings.Count(logs.String(), "visibility heartbeat failed"); got != 2 {
		t.Fatalf("logged %d failures, want 2:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "id=m1") || !strings.Contains(logs.String(), "throttled") {
		t.Fatalf("log lacks message id or cause:\n%s", logs.String())
	}
	for _, d := range ext.calls {
		if d != time.Minute {
			t.Fatalf("extended by %s, want 1m", d)
		}
	}
	stop() // a second stop is harmless
}

func TestHeartbeatEndsWithContext(t *testing.T) {
	t.Parallel()
	ext := &fakeExtender{}
	ctx, cancel := context.WithCancel(context.Background())
	stop := Heartbeat(ctx, ext, &Message{ID: "m1"}, 5*time.Millisecond, time.Second)
	cancel()
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return after the context ended")
	}
	if Heartbeat(ctx, ext, &Message{}, 0, time.Second) == nil {
		t.Fatal("nil stop for a disabled heartbeat")
	}
}

// TestHeartbeatAgainstSQS: with a 1 s visibility timeout, a heartbeat
// keeps the message from every other receiver for 3 s; once stopped, the
// message comes back.
func TestHeartbeatAgainstSQS(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src := newTestSource(t, srv, url, time.Second)
	srv.Send(t, url, "long converge")
	m := receiveOne(t, src, 3)
	stop := Heartbeat(context.Background(), src, m, 300*time.Millisecond, time.Second)
	receiveNone(t, src, 3)
	stop()
	m2 := receiveOne(t, src, 4)
	if m2.ID != m.ID || m2.ReceiveCount != 2 {
		t.Fatalf("after heartbeat stopped: id %s count %d", m2.ID, m2.ReceiveCount)
	}
}
