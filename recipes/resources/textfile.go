package resources

import (
	"context"
	"os"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// The small config-file kinds (sysctl, sudo, yum_repository) own one whole
// file: readOwned reads it, removeOwned plans its removal.

// readOwned reads the file a kind owns (display is its path on the host):
// its path under the run's root, its content, and whether it exists.
func readOwned(rc *recipes.RunContext, display string) (file string, cur []byte, present bool, err error) {
	file = rc.Path(display)
	cur, err = os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return file, nil, false, err
	}
	return file, cur, err == nil, nil
}

// removeOwned plans removing the file (verb is the action's word), or
// nothing when it is absent.
func removeOwned(verb, display, file string, present bool) []recipes.Step {
	if !present {
		return nil
	}
	return []recipes.Step{{Desc: verb + " " + display, Apply: func(context.Context) error { return os.Remove(file) }}}
}

// setLine returns the text of cur with the lines drop matches (given the
// line and its fields) removed and line present once, kept in place when
// it was there, else appended; changed says whether that differs.
func setLine(cur []byte, line string, drop func(l string, f []string) bool) (next string, changed bool) {
	var keep []string
	for _, l := range strings.Split(strings.TrimSuffix(string(cur), "\n"), "\n") {
		if l != line && drop(l, strings.Fields(l)) {
			continue
		}
		keep = append(keep, l)
	}
	if !containsAny(keep, line) {
		keep = append(keep, line)
	}
	next = strings.Join(keep, "\n") + "\n"
	return next, next != string(cur)
}
