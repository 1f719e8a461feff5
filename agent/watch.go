package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long a burst of file events is gathered before acting
// (an editor's save is several events).
const debounce = 300 * time.Millisecond

// watchFile signals on the channel when the file is written, created,
// replaced or removed (editors and config management replace files by
// rename, so the directory is watched). Without fsnotify it never signals.
func watchFile(path string) (<-chan struct{}, func()) {
	abs, _ := filepath.Abs(path)
	return watchPaths([]string{filepath.Dir(abs)}, func(name string) bool { return name == abs })
}

// watchTree signals when any file under the directories changes (new
// sub-directories are watched as they appear). Dot-files are ignored.
func watchTree(dirs []string) (<-chan struct{}, func()) {
	var all []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
	}
	return watchPaths(all, func(name string) bool { return !strings.HasPrefix(filepath.Base(name), ".") })
}

func watchPaths(dirs []string, match func(string) bool) (<-chan struct{}, func()) {
	out := make(chan struct{}, 1)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return out, func() {}
	}
	for _, d := range dirs {
		w.Add(d)
	}
	done := make(chan struct{})
	go func() {
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
						w.Add(ev.Name)
					}
				}
				if match(ev.Name) && ev.Op != fsnotify.Chmod {
					timer = time.After(debounce)
				}
			case <-w.Errors:
			case <-timer:
				timer = nil
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, func() { close(done); w.Close() }
}
