package lifecycle

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonLogsShortEventID: an event id of 200 KB (allowed by the
// envelope) is logged shortened, not copied into every log line; the
// setup.succeeded marker is written atomically, replacing a symlink
// planted in its place instead of writing through it.
func TestDaemonLogsShortEventID(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	j, err := OpenJournal(filepath.Join(state, "journal.jsonl"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(state, "setup.succeeded")); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d := &Daemon{Source: &memSource{}, Converger: &countConverger{}, Journal: j, StateDir: state,
		Log:      slog.New(slog.NewTextHandler(&logs, nil)),
		Identity: Identity{InstanceID: "i-1", Layers: []string{"php-app"}}}
	d.defaults()
	id := strings.Repeat("x", 200<<10)
	body := []byte(`{"version":1,"id":"` + id + `","type":"setup"}`)
	ctx := context.Background()
	d.serve(ctx, ctx, []*Message{{ID: "m-1", Body: body, ReceiveCount: 1, Received: time.Now()}})
	d.serve(ctx, ctx, []*Message{{ID: "m-2", Body: body, ReceiveCount: 2, Received: time.Now()}}) // duplicate
	if !strings.Contains(logs.String(), "event finished") || !strings.Contains(logs.String(), "duplicate delivery") {
		t.Fatalf("logs:\n%.2000s", logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if len(line) > 4096 {
			t.Fatalf("log line of %d bytes: %.300s…", len(line), line)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep\n" {
		t.Fatalf("setup.succeeded written through a symlink: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(state, "setup.succeeded")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("setup.succeeded: %v %v", fi, err)
	}
}
