package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeavesDoNotImportEngine keeps the rule of the house: the lifecycle,
// the watchdog and the secrets resolver do not depend on the Lua engine.
func TestLeavesDoNotImportEngine(t *testing.T) {
	t.Parallel()
	const engine = "github.com/stackagent/stackagent/recipes"
	for _, pkg := range []string{"lifecycle", "internal/heal", "internal/secrets"} {
		out, err := exec.Command("go", "list", "-deps", "github.com/stackagent/stackagent/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == engine || strings.HasPrefix(dep, engine+"/") {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}
