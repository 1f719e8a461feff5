package lifecycle

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// memSource is a Source in memory that records what was acknowledged.
type memSource struct {
	mu       sync.Mutex
	deleted  []string
	released []string
}

func (s *memSource) Receive(context.Context) ([]*Message, error) { return nil, nil }
func (s *memSource) Delete(_ context.Context, m *Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, m.ID)
	return nil
}
func (s *memSource) Release(_ context.Context, m *Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = append(s.released, m.ID)
	return nil
}

type countConverger struct{ runs int }

func (c *countConverger) Converge(context.Context, *Job) *Outcome {
	c.runs++
	return &Outcome{Status: StatusSuccess, Total: 1}
}

// TestDaemonDoesNotAcknowledgeWithoutJournal: when the journal entry of a
// finished event cannot be written, the message is not deleted and the
// in-progress record stays (so it is settled again), instead of the
// event being acknowledged with no record that it ran.
func TestDaemonDoesNotAcknowledgeWithoutJournal(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	j, err := OpenJournal(filepath.Join(state, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close() // every Record fails from here on
	src := &memSource{}
	conv := &countConverger{}
	d := &Daemon{Source: src, Converger: conv, Journal: j, StateDir: state,
		Identity: Identity{InstanceID: "i-1", Layers: []string{"php-app"}}}
	d.defaults()
	body := []byte(`{"version":1,"id":"c-1","type":"deploy","app":"wp"}`)
	m := &Message{ID: "m-1", Body: body, ReceiveCount: 1, Received: time.Now()}
	// The journal write is tried again until the daemon stops: stop it
	// after the first retry.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	d.serve(ctx, ctx, []*Message{m})
	if conv.runs != 1 {
		t.Fatalf("runs: %d", conv.runs)
	}
	if len(src.deleted) != 0 {
		t.Fatalf("message acknowledged without a journal entry: %v", src.deleted)
	}
	ip, err := LoadInProgress(d.inProgressPath())
	if err != nil || ip == nil || ip.Event.ID != "c-1" || string(ip.Message) != string(body) {
		t.Fatalf("in-progress record: %+v %v", ip, err)
	}
}
