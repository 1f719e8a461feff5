package lifecycle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingSettle is a settle hook whose service is down.
type failingSettle struct{ calls *[]string }

func (failingSettle) Name() string { return "down" }

func (h failingSettle) Settle(_ context.Context, ev *Event, _ *Result) error {
	*h.calls = append(*h.calls, "down:"+ev.ID)
	return errors.New("service unavailable")
}

// TestHooksSettleFailureLosesNothing runs the daemon on an inbox: a settle
// hook that fails is logged and the event is acknowledged all the same;
// the result hooks see every result, a file that is not an event too
// (with no event), in their order.
func TestHooksSettleFailureLosesNothing(t *testing.T) {
	t.Parallel()
	dir, state := t.TempDir(), t.TempDir()
	src, err := NewInboxSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	j, err := OpenJournal(filepath.Join(state, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	var calls []string
	record := func(name string) *funcHook {
		return &funcHook{name: name, result: func(ev *Event, r *Result) {
			mu.Lock()
			defer mu.Unlock()
			id := "-"
			if ev != nil {
				id = ev.ID
			}
			calls = append(calls, name+":"+id+":"+string(r.Status))
		}}
	}
	d := &Daemon{Source: src, Identity: Identity{InstanceID: "i-me", Stack: "prod", Layers: []string{"web"}},
		Converger: okConverger{}, Journal: j, StateDir: state, Log: testLog(t),
		BaseAttributes: func() map[string]any { return map[string]any{} },
		Hooks:          []Hook{failingSettle{&calls}, record("first"), record("second")}}
	os.WriteFile(filepath.Join(dir, "a-junk.json"), []byte("not an event"), 0o644)
	os.WriteFile(filepath.Join(dir, "b-ok.json"), []byte(`{"version":1,"id":"ok-1","type":"configure"}`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := j.Done("ok-1"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ok-1 was not journaled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	want := "first:-:refused second:-:refused down:ok-1 first:ok-1:success second:ok-1:success"
	if got := strings.Join(calls, " "); got != want {
		t.Fatalf("hooks ran\n  %s\nwant\n  %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "b-ok.json")); !os.IsNotExist(err) {
		t.Errorf("ok-1 left in the inbox: %v", err)
	}
}
