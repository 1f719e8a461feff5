package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stackagent/stackagent/internal/testutil"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// These tests run against fauxqs, a real SQS server (see sqstest). Every
// wait is bounded: long polls of 1 s, loops of a few iterations.

var queueSeq atomic.Int64

// testQueueName is a queue name of the test's own, valid for SQS.
func testQueueName(t *testing.T) string {
	t.Helper()
	n := regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(t.Name(), "-")
	if len(n) > 60 {
		n = n[:60]
	}
	return fmt.Sprintf("%s-%d", n, queueSeq.Add(1))
}

func newTestSource(t *testing.T, srv *sqstest.Server, url string, visibility time.Duration) *SQSSource {
	t.Helper()
	src, err := NewSQSSource(srv.SQS, url, SQSOptions{Wait: time.Second, Visibility: visibility})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receiveOne receives until one message comes, at most tries long polls.
func receiveOne(t *testing.T, src *SQSSource, tries int) *Message {
	t.Helper()
	for i := 0; i < tries; i++ {
		msgs, err := src.Receive(testCtx(t, 10*time.Second))
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(msgs) > 1 {
			t.Fatalf("receive: %d messages, want 1", len(msgs))
		}
		if len(msgs) == 1 {
			return msgs[0]
		}
	}
	t.Fatalf("no message after %d polls", tries)
	return nil
}

// receiveNone fails if a message comes within polls long polls of 1 s.
func receiveNone(t *testing.T, src *SQSSource, polls int) {
	t.Helper()
	for i := 0; i < polls; i++ {
		msgs, err := src.Receive(testCtx(t, 10*time.Second))
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(msgs) != 0 {
			t.Fatalf("poll %d: got message %s (receive count %d), want none", i, msgs[0].ID, msgs[0].ReceiveCount)
		}
	}
}

func TestSQSSourceReceiveReleaseDelete(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src := newTestSource(t, srv, url, 30*time.Second)
	id := srv.Send(t, url, `{"version":1,"id":"e1","type":"setup"}`)

	m := receiveOne(t, src, 3)
	if m.ID != id || string(m.Body) != `{"version":1,"id":"e1","type":"setup"}` || m.Handle == "" {
		t.Fatalf("message = %+v, want id %s and the sent body", m, id)
	}
	if m.ReceiveCount != 1 {
		t.Fatalf("first receive count = %d, want 1", m.ReceiveCount)
	}
	if time.Since(m.Received) > time.Minute {
		t.Fatalf("received stamp %v not set", m.Received)
	}
	if err := src.Release(testCtx(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	m2 := receiveOne(t, src, 3) // released: visible again at once
	if m2.ID != id || m2.ReceiveCount != 2 {
		t.Fatalf("after release: id %s count %d, want %s and 2", m2.ID, m2.ReceiveCount, id)
	}
	if err := src.Delete(testCtx(t, 5*time.Second), m2); err != nil {
		t.Fatal(err)
	}
	receiveNone(t, src, 1)
}

func TestSQSSourceDeleteIsForGood(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src := newTestSource(t, srv, url, time.Second)
	srv.Send(t, url, "x")
	m := receiveOne(t, src, 3)
	if err := src.Delete(testCtx(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	// Past the 1 s visibility timeout a merely invisible message would be
	// back.
	receiveNone(t, src, 3)
}

func TestSQSSourceExtendKeepsMessageInvisible(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src := newTestSource(t, srv, url, time.Second)
	srv.Send(t, url, "x")
	m := receiveOne(t, src, 3)
	if err := src.Extend(testCtx(t, 5*time.Second), m, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Three 1 s polls: well past the original 1 s timeout, within 5 s.
	start := time.Now()
	receiveNone(t, src, 3)
	if time.Since(start) < 2*time.Second {
		t.Fatalf("polls returned after %s; long polling did not wait", time.Since(start))
	}
	// After the extension lapses the message is delivered again.
	m2 := receiveOne(t, src, 5)
	if m2.ID != m.ID || m2.ReceiveCount != 2 {
		t.Fatalf("redelivery: id %s count %d, want %s and 2", m2.ID, m2.ReceiveCount, m.ID)
	}
}

func TestSQSSourceRedriveToDLQ(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url, dlqURL := srv.CreateQueueWithDLQ(t, testQueueName(t), 2)
	src := newTestSource(t, srv, url, 30*time.Second)
	id := srv.Send(t, url, "poison")
	for want := 1; want <= 2; want++ {
		m := receiveOne(t, src, 3)
		if m.ID != id || m.ReceiveCount != want {
			t.Fatalf("receive %d: id %s count %d", want, m.ID, m.ReceiveCount)
		}
		if err := src.Release(testCtx(t, 5*time.Second), m); err != nil {
			t.Fatal(err)
		}
	}
	// Received maxReceiveCount times without a delete: the next receive
	// moves it to the dead-letter queue instead of delivering it.
	receiveNone(t, src, 1)
	dlq := newTestSource(t, srv, dlqURL, 30*time.Second)
	m := receiveOne(t, dlq, 3)
	if m.ID != id || string(m.Body) != "poison" {
		t.Fatalf("dlq message = %s %q, want %s \"poison\"", m.ID, m.Body, id)
	}
}

func TestSQSSourceEmptyLongPoll(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	src := newTestSource(t, srv, srv.CreateQueue(t, testQueueName(t), nil), 30*time.Second)
	start := time.Now()
	msgs, err := src.Receive(testCtx(t, 10*time.Second))
	elapsed := time.Since(start)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("empty poll = %d messages, %v; want none, nil", len(msgs), err)
	}
	if elapsed < 900*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("empty 1 s long poll took %s", elapsed)
	}
}

func TestSQSSourceLongPollReturnsOnSend(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src, err := NewSQSSource(srv.SQS, url, SQSOptions{Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		srv.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("late")})
	}()
	start := time.Now()
	msgs, err := src.Receive(testCtx(t, 15*time.Second))
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "late" {
		t.Fatalf("receive = %v, %v", msgs, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("long poll returned after %s, not on the send", d)
	}
}

func TestSQSSourceBatchOfTen(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprint(i))})
	}
	for range 2 {
		out, err := srv.SQS.SendMessageBatch(testCtx(t, 5*time.Second), &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
		if err != nil || len(out.Failed) != 0 {
			t.Fatalf("send batch: %v %v", err, out)
		}
	}
	src := newTestSource(t, srv, url, 30*time.Second)
	seen := 0
	for i := 0; i < 5 && seen < 20; i++ {
		msgs, err := src.Receive(testCtx(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 10 {
			t.Fatalf("one receive returned %d messages, max 10", len(msgs))
		}
		seen += len(msgs)
	}
	if seen != 20 {
		t.Fatalf("received %d of 20 messages", seen)
	}
}

func TestSQSSourceFIFOQueue(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t)+".fifo", map[string]string{"ContentBasedDeduplication": "true"})
	for _, b := range []string{"a", "b", "a"} { // the second "a" is a duplicate
		_, err := srv.SQS.SendMessage(testCtx(t, 5*time.Second), &sqs.SendMessageInput{
			QueueUrl: &url, MessageBody: aws.String(b), MessageGroupId: aws.String("g"),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	src := newTestSource(t, srv, url, 30*time.Second)
	var got []string
	for i := 0; i < 3 && len(got) < 2; i++ {
		msgs, err := src.Receive(testCtx(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			got = append(got, string(m.Body))
			if err := src.Delete(testCtx(t, 5*time.Second), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("fifo delivered %q, want a,b (in order, deduplicated)", got)
	}
	receiveNone(t, src, 1)
}

func TestSQSSourceServerDownAndBack(t *testing.T) {
	t.Parallel()
	srv := sqstest.Start(t) // its own server: this test stops it
	name := testQueueName(t)
	url := srv.CreateQueue(t, name, nil)
	src := newTestSource(t, srv, url, 30*time.Second)
	receiveNone(t, src, 1)

	srv.Stop()
	start := time.Now()
	_, err := src.Receive(testCtx(t, 10*time.Second))
	if err == nil {
		t.Fatal("receive from a stopped server: no error")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("receive from a stopped server: %v, want connection refused", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("receive from a stopped server took %s", d)
	}
	if !strings.Contains(err.Error(), url) {
		t.Fatalf("error %q does not name the queue", err)
	}

	srv.Restart(t) // same port, empty state
	if got := srv.CreateQueue(t, name, nil); got != url {
		t.Fatalf("queue url after restart = %s, want %s", got, url)
	}
	srv.Send(t, url, "after restart")
	if m := receiveOne(t, src, 3); string(m.Body) != "after restart" {
		t.Fatalf("after restart got %q", m.Body)
	}
}

func TestNewSQSSourceRefusesBadOptions(t *testing.T) {
	t.Parallel()
	c := sqs.New(sqs.Options{Region: "us-east-1"})
	for _, o := range []SQSOptions{
		{Wait: 21 * time.Second}, {Wait: 500 * time.Millisecond}, {Visibility: 13 * time.Hour},
		{Visibility: -time.Second}, {MaxMessages: 11}, {MaxMessages: -1},
	} {
		if _, err := NewSQSSource(c, "http://127.0.0.1:1/000000000000/q", o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := NewSQSSource(c, "", SQSOptions{}); err == nil {
		t.Error("empty queue url accepted")
	}
	src, err := NewSQSSource(c, "http://127.0.0.1:1/000000000000/q", SQSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if src.opts.Wait != 20*time.Second || src.opts.Visibility != 60*time.Second || src.opts.MaxMessages != 10 {
		t.Fatalf("defaults = %+v", src.opts)
	}
}

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

func TestHeartbeatLogsAndKeepsTrying(t *testing.T) {
	t.Parallel()
	var logs testutil.SyncBuffer
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
// message comes back when the last extension (2 s) lapses.
func TestHeartbeatAgainstSQS(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	src := newTestSource(t, srv, url, time.Second)
	srv.Send(t, url, "long converge")
	m := receiveOne(t, src, 3)
	stop := Heartbeat(context.Background(), src, m, 250*time.Millisecond, 2*time.Second)
	receiveNone(t, src, 3)
	stop()
	m2 := receiveOne(t, src, 5)
	if m2.ID != m.ID || m2.ReceiveCount != 2 {
		t.Fatalf("after heartbeat stopped: id %s count %d", m2.ID, m2.ReceiveCount)
	}
}
