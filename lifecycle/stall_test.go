package lifecycle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// blackHoleSource is an SQS source whose endpoint accepts connections and
// never answers.
func blackHoleSource(t *testing.T) *SQSSource {
	t.Helper()
	endpoint := sqstest.BlackHole(t)
	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	src, err := NewSQSSource(client, endpoint+"/000000000000/q", SQSOptions{Wait: time.Second,
		ReceiveGrace: time.Second, CallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestSQSSourceStalledConnection: a receive, a delete and a visibility
// change against an endpoint that never answers end with ErrStalled at
// their deadline, not when the caller gives up.
func TestSQSSourceStalledConnection(t *testing.T) {
	t.Parallel()
	src := blackHoleSource(t)
	ctx := testCtx(t, time.Minute)
	_, err := src.Receive(ctx)
	if !errors.Is(err, ErrStalled) || ctx.Err() != nil {
		t.Fatalf("receive: %v (caller's context: %v), want ErrStalled", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), src.QueueURL()) {
		t.Fatalf("error %q does not name the queue", err)
	}
	m := &Message{ID: "m-1", Handle: "h"}
	if err := src.Delete(ctx, m); !errors.Is(err, ErrStalled) {
		t.Fatalf("delete: %v, want ErrStalled", err)
	}
	if err := src.Release(ctx, m); !errors.Is(err, ErrStalled) {
		t.Fatalf("release: %v, want ErrStalled", err)
	}
	// The caller's own cancel is not a stall.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Receive(cctx); errors.Is(err, ErrStalled) {
		t.Fatalf("a cancelled receive reported a stall: %v", err)
	}
}

// TestDaemonBacksOffOnStall: the daemon logs the stall, reports
// backing-off and keeps trying.
func TestDaemonBacksOffOnStall(t *testing.T) {
	t.Parallel()
	j, err := OpenJournal(t.TempDir()+"/journal.jsonl", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	var states []string
	backoff := NewBackoff()
	backoff.Base = 10 * time.Millisecond
	d := &Daemon{Source: blackHoleSource(t), Journal: j, StateDir: t.TempDir(), Converger: &recorder{},
		Log: testLog(t), Backoff: backoff, Hooks: []Hook{&funcHook{name: "states", state: func(s State, _ *Event) {
			mu.Lock()
			defer mu.Unlock()
			states = append(states, string(s))
		}}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for backoff.Failures() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no two stalls seen")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(states, ","); !strings.Contains(got, "polling,backing-off,polling,backing-off") {
		t.Fatalf("states %s", got)
	}
}
