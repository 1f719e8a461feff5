package heal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestartCommandArgv: restart_command given as a list (as a cookbook
// passes a value from the stack JSON) runs as argv without a shell: the
// ";" in an argument is part of the file name, not a second command.
func TestRestartCommandArgv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	odd := filepath.Join(dir, "x; touch "+"pwned")
	w, errs := ParseWatches(map[string]any{"stackagent": map[string]any{"watch": map[string]any{"services": map[string]any{
		"svc": map[string]any{"restart_command": []any{"touch", odd}}}}}})
	if len(errs) > 0 || len(w.Services) != 1 {
		t.Fatalf("parse: %v %+v", errs, w)
	}
	if _, err := (InitRepairer{Systemd: true}).Restart(context.Background(), &w.Services[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(odd); err != nil {
		t.Fatalf("argv not run as given: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("the argument ran as shell")
	}
}

// TestRestartCommandRefused: a restart_command that is neither a string
// nor a list of strings is refused with its path; the service is not
// watched.
func TestRestartCommandRefused(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]any{
		"stackagent.watch.services.svc.restart_command: want a shell command": []any{},
		"stackagent.watch.services.svc.restart_command[2]: want a string":     []any{"touch", 3.0},
		"stackagent.watch.services.svc.restart_command[1]: want a string":     []any{""},
	} {
		w, errs := ParseWatches(map[string]any{"stackagent": map[string]any{"watch": map[string]any{"services": map[string]any{
			"svc": map[string]any{"restart_command": want}}}}})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), v) || len(w.Services) != 0 {
			t.Errorf("%v: %v %+v", want, errs, w.Services)
		}
	}
}
