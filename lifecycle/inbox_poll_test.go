package lifecycle

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestInboxPollsWithoutInotify: an inbox that cannot be watched (the
// inotify instance limit reached) says so and lists the directory
// instead; a dropped event is still received.
func TestInboxPollsWithoutInotify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	src, err := newInboxSource(dir, slog.New(slog.NewTextHandler(&logs, nil)), func(string) (*fsnotify.Watcher, error) {
		return nil, fmt.Errorf("inbox: %w", syscall.EMFILE)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !strings.Contains(logs.String(), "the inotify instance limit is reached (sysctl fs.inotify.max_user_instances)") {
		t.Fatalf("log: %s", logs.String())
	}
	body := `{"version": 1, "id": "p-1", "type": "configure"}`
	if err := os.WriteFile(filepath.Join(dir, ".p-1.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, ".p-1.json"), filepath.Join(dir, "p-1.json")); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 30*time.Second)
	for ctx.Err() == nil {
		msgs, err := src.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 && string(msgs[0].Body) == body {
			return
		}
	}
	t.Fatal("the event was not received by polling")
}
