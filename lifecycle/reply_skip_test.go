package lifecycle

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

type okConverger struct{}

func (okConverger) Converge(context.Context, *Job) *Outcome { return &Outcome{Status: StatusSuccess} }

// TestSkippedEventsAnswerOnlyWhenNamed runs a daemon on a fauxqs queue with
// a reply queue: an event for other instances gets no answer, one that
// names this instance but another stack is answered "skipped", one for it
// "success" — so a deploy to one instance of many gets one answer.
func TestSkippedEventsAnswerOnlyWhenNamed(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	queue := srv.CreateQueue(t, testQueueName(t), nil)
	reply := srv.CreateQueue(t, testQueueName(t), nil)
	dir := t.TempDir()
	j, err := OpenJournal(filepath.Join(dir, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	d := &Daemon{
		Source: newTestSource(t, srv, queue, 30*time.Second), Identity: Identity{InstanceID: "i-me", Stack: "prod", Layers: []string{"web"}},
		Converger: okConverger{}, Journal: j, StateDir: dir, Hooks: []Hook{ReplyHook{NewSQSReporter(srv.SQS, reply)}},
		BaseAttributes: func() map[string]any { return map[string]any{} },
	}
	for _, ev := range []map[string]any{
		{"id": "not-me", "type": "configure", "instances": []string{"i-other"}},
		{"id": "other-layer", "type": "configure", "layers": []string{"db"}},
		{"id": "named-other-stack", "type": "configure", "stack": "staging", "instances": []string{"i-me"}},
		{"id": "mine", "type": "configure", "instances": []string{"i-me"}},
	} {
		ev["version"] = 1
		b, _ := json.Marshal(ev)
		srv.Send(t, queue, string(b))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Every event settled (journaled) before the answers are counted.
	for i := 0; i < 300 && j.Len() < 4; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if n := j.Len(); n != 4 {
		t.Fatalf("%d of 4 events settled", n)
	}
	got := map[string]Status{}
	for {
		m := srv.ReceiveOne(t, reply, time.Second)
		if m == nil {
			break
		}
		r := decodeResult(t, *m.Body)
		got[r.EventID] = r.Status
	}
	cancel()
	<-done
	want := map[string]Status{"named-other-stack": StatusSkipped, "mine": StatusSuccess}
	if len(got) != len(want) || got["mine"] != want["mine"] || got["named-other-stack"] != want["named-other-stack"] {
		t.Fatalf("answers %v, want %v", got, want)
	}
}
