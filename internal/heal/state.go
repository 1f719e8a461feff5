package heal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// persisted is the state file.
type persisted struct {
	Services   []Service `json:"services"`
	HandedBack *HandBack `json:"handed_back,omitempty"`
}

// Load reads the state file, if any: the services watched before a
// restart, and whether the instance was handed back.
func (w *Watchdog) Load() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.defaults()
	w.loaded = true
	if w.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(w.StateFile)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("%s: %w", w.StateFile, err)
	}
	for _, s := range p.Services {
		w.svcs[s.Name] = &watched{spec: s, httpFails: map[string]int{}}
	}
	w.handedBack = p.HandedBack
	w.Metrics.handBack(p.HandedBack != nil)
	return nil
}

// save writes the state file. Callers hold w.mu.
func (w *Watchdog) save() {
	if w.StateFile == "" {
		return
	}
	p := persisted{Services: []Service{}, HandedBack: w.handedBack}
	for _, name := range w.names() {
		p.Services = append(p.Services, w.svcs[name].spec)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err == nil {
		err = os.MkdirAll(filepath.Dir(w.StateFile), 0o750)
	}
	if err == nil {
		err = atomicfile.WriteFile(w.StateFile, append(b, '\n'), 0o640)
	}
	if err != nil {
		w.Log.Warn("watchdog: saving its state", "error", err)
	}
}

func (w *Watchdog) names() []string {
	out := make([]string, 0, len(w.svcs))
	for n := range w.svcs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
