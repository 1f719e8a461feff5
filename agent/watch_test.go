package main

import (
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

// TestWatchFallsBackToPolling: when inotify's watch limit is reached, the
// config file and cookbook watches say so and poll: a change is still
// seen.
func TestWatchFallsBackToPolling(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	writeTree(t, dir, map[string]string{"agent.yaml": "stack: a\n", "cb/x/recipes/default.lua": "-- v1\n"})
	logs := &lockedBuilder{}
	fw := &fileWatch{
		log:  slog.New(slog.NewTextHandler(logs, nil)),
		open: func([]string) (*fsnotify.Watcher, error) { return nil, fmt.Errorf("watch %s: %w", dir, syscall.ENOSPC) },
		poll: 20 * time.Millisecond,
	}
	changed, stop := fw.file(cfg)
	defer stop()
	treeChanged, stopTree := fw.tree([]string{filepath.Join(dir, "cb")})
	defer stopTree()
	// Replaced by rename, as config management does.
	writeTree(t, dir, map[string]string{".agent.yaml.tmp": "stack: b\n"})
	if err := os.Rename(filepath.Join(dir, ".agent.yaml.tmp"), cfg); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"cb/x/recipes/new.lua": "-- new\n"})
	for name, ch := range map[string]<-chan struct{}{"config file": changed, "cookbook tree": treeChanged} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("the %s change was not seen by polling", name)
		}
	}
	if n := strings.Count(logs.String(), "the inotify watch limit is reached (sysctl fs.inotify.max_user_watches)"); n != 2 {
		t.Fatalf("want the limit said once per watch, got %d:\n%s", n, logs.String())
	}
}
