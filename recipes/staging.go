package recipes

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// staging is a run's one directory for downloads in flight (remote_file in
// why-run, deploy archives). The engine creates it on first use, inside
// Options.StagingParent, and removes it when the run ends, however it
// ends: success, error, or a panic unwinding Run.
type staging struct {
	parent string
	mu     sync.Mutex
	dir    string
}

// get returns the directory, creating it the first time.
func (s *staging) get() (string, error) {
	if s == nil {
		return "", errors.New("staging directory: only during a run")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		d, err := os.MkdirTemp(s.parent, "stackagent-run-")
		if err != nil {
			return "", fmt.Errorf("staging directory: %w", err)
		}
		s.dir = d
	}
	return s.dir, nil
}

// remove deletes the directory and everything left in it.
func (s *staging) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// StagingDir returns the run's staging directory for downloads in flight,
// created on first use and removed by the engine when the run ends. A
// resource may make its own entries in it; it need not remove them.
func (rc *RunContext) StagingDir() (string, error) { return rc.staging.get() }
