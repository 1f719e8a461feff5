package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/stackagent/stackagent/lifecycle"
)

// debounce is how long a burst of file events is gathered before acting
// (an editor's save is several events).
const debounce = 300 * time.Millisecond

// pollEvery is how often a watch that cannot use inotify (the per-user
// limit of watches or instances is reached) looks at the files instead.
const pollEvery = 2 * time.Second

// fileWatch watches files for changes: with inotify (fsnotify) when it
// can, else by polling, said in the log — a watch never silently stops.
type fileWatch struct {
	log *slog.Logger
	// open creates an inotify watcher on dirs; tests inject its failure.
	open func(dirs []string) (*fsnotify.Watcher, error)
	poll time.Duration
}

func newFileWatch(log *slog.Logger) *fileWatch {
	return &fileWatch{log: log, open: openInotify, poll: pollEvery}
}

// openInotify creates a watcher and adds dirs to it.
func openInotify(dirs []string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return w, nil
}

// file signals on the channel when the file is written, created, replaced
// or removed (editors and config management replace files by rename, so
// the directory is watched).
func (fw *fileWatch) file(path string) (<-chan struct{}, func()) {
	abs, _ := filepath.Abs(path)
	snap := func() string { return statSnap(abs) }
	return fw.paths([]string{filepath.Dir(abs)}, func(name string) bool { return name == abs }, snap)
}

// tree signals when any file under the directories changes (new
// sub-directories are watched as they appear). Dot-files are ignored.
func (fw *fileWatch) tree(dirs []string) (<-chan struct{}, func()) {
	var all []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
	}
	snap := func() string { return treeSnap(dirs) }
	return fw.paths(all, func(name string) bool { return !strings.HasPrefix(filepath.Base(name), ".") }, snap)
}

func (fw *fileWatch) paths(dirs []string, match func(string) bool, snap func() string) (<-chan struct{}, func()) {
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	w, err := fw.open(dirs)
	if err != nil {
		fw.log.Warn("cannot watch files with inotify; polling them instead", "error", err, "why", lifecycle.InotifyHint(err),
			"every", fw.poll, "dirs", dirs)
		go pollLoop(done, out, fw.poll, snap, snap())
		return out, func() { close(done) }
	}
	go fw.notifyLoop(w, done, out, match)
	return out, func() { close(done); w.Close() }
}

func (fw *fileWatch) notifyLoop(w *fsnotify.Watcher, done <-chan struct{}, out chan<- struct{}, match func(string) bool) {
	var timer <-chan time.Time
	for {
		select {
		case <-done:
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					if err := w.Add(ev.Name); err != nil {
						fw.log.Warn("cannot watch a new directory; changes under it are not seen until restart", "dir", ev.Name, "error", err, "why", lifecycle.InotifyHint(err))
					}
				}
			}
			if match(ev.Name) && ev.Op != fsnotify.Chmod {
				timer = time.After(debounce)
			}
		case err, ok := <-w.Errors:
			if ok {
				// An overflow loses events: act as if something changed.
				fw.log.Warn("file watch error; checking the files again", "error", err)
				timer = time.After(debounce)
			}
		case <-timer:
			timer = nil
			notifyOnce(out)
		}
	}
}

// pollLoop signals when snap changes from last (taken before the loop
// starts, so a change made meanwhile is seen).
func pollLoop(done <-chan struct{}, out chan<- struct{}, every time.Duration, snap func() string, last string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if s := snap(); s != last {
				last = s
				notifyOnce(out)
			}
		}
	}
}

func notifyOnce(out chan<- struct{}) {
	select {
	case out <- struct{}{}:
	default:
	}
}

// statSnap is what polling compares for one file: inode, size, mtime.
func statSnap(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	ino := uint64(0)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%d %d %d", ino, fi.Size(), fi.ModTime().UnixNano())
}

// treeSnap is statSnap of every file under dirs (dot-files left out).
func treeSnap(dirs []string) string {
	var b strings.Builder
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !strings.HasPrefix(e.Name(), ".") {
				fmt.Fprintf(&b, "%s %s\n", p, statSnap(p))
			}
			return nil
		})
	}
	return b.String()
}
