package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// TestDaemonReadsAttributesOncePerEvent runs a configure event through the
// real daemon and inbox and counts the reads of attributes.d: the run list
// and the converge share one read.
func TestDaemonReadsAttributesOncePerEvent(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	flags := map[string]string{}
	for i := 3; i+1 < len(e.args); i += 2 {
		flags[strings.ReplaceAll(strings.TrimPrefix(e.args[i], "--"), "-", "_")] = e.args[i+1]
	}
	cfg, _, err := loadConfig(filepath.Join(e.root, "agent.yaml"), true, func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	d, cleanup, err := buildDaemon(context.Background(), cfg, slog.New(slog.DiscardHandler), &lockedBuilder{})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	var mu sync.Mutex
	reads := 0
	d.engine.readAttrs = func(file string) (map[string]any, error) {
		mu.Lock()
		reads++
		mu.Unlock()
		return lifecycle.ReadAttributeFile(file)
	}
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	dropEvent(t, inbox, "c1", map[string]any{"id": "c1", "type": "configure", "issued_at": time.Now().UTC().Format(time.RFC3339)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, "the configure's result", 20*time.Second, func() bool { return readResult(t, inbox, "c1") != nil })
	cancel()
	<-done
	if r := readResult(t, inbox, "c1"); r.Status != lifecycle.StatusSuccess {
		t.Fatalf("configure: %s %s", r.Status, r.Reason)
	}
	if got := e.ran(); len(got) != 1 || !strings.HasPrefix(got[0], "configure configure") {
		t.Fatalf("ran %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if reads != 1 { // attrs/10-layers.json, once
		t.Fatalf("attribute file read %d times for one event, want 1", reads)
	}
}
