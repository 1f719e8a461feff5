package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDefaultLayout: root gets the host paths, a normal user the XDG ones
// (or ~/.local/…), and without any home the host paths stay.
func TestDefaultLayout(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		name            string
		euid            int
		env             map[string]string
		state, cookbook string
	}{
		{"root", 0, map[string]string{"HOME": "/root"}, "/var/lib/stackagent", "/etc/stackagent/cookbooks"},
		{"user home", 1000, map[string]string{"HOME": "/home/ann"}, "/home/ann/.local/state/stackagent", "/home/ann/.config/stackagent/cookbooks"},
		{"user xdg", 1000, map[string]string{"HOME": "/home/ann", "XDG_STATE_HOME": "/x/state", "XDG_CONFIG_HOME": "/x/conf"}, "/x/state/stackagent", "/x/conf/stackagent/cookbooks"},
		{"relative xdg ignored", 1000, map[string]string{"HOME": "/home/ann", "XDG_STATE_HOME": "rel"}, "/home/ann/.local/state/stackagent", "/home/ann/.config/stackagent/cookbooks"},
		{"no home", 1000, nil, "/var/lib/stackagent", "/etc/stackagent/cookbooks"},
	} {
		l := defaultLayout(tc.euid, env(tc.env))
		c := l.config(defaultConfig())
		if c.StateDir != tc.state || c.CookbookDirs[0] != tc.cookbook {
			t.Errorf("%s: state_dir %s, cookbook_dirs %v; want %s, %s", tc.name, c.StateDir, c.CookbookDirs, tc.state, tc.cookbook)
		}
		if got := l.path("/var/lib/stackagentx"); got != "/var/lib/stackagentx" {
			t.Errorf("%s: a sibling path moved: %s", tc.name, got)
		}
	}
}

// TestBootSetupUsesConfiguredPaths: stackagent::default (the first recipe
// of every setup) lays out the configured state, attributes, cookbook and
// plugin directories, creates none of the host defaults, and leaves the
// mode of an existing state dir alone.
func TestBootSetupUsesConfiguredPaths(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	state := filepath.Join(root, "srv", "agent", "state")
	for _, d := range []string{state, filepath.Join(root, "srv", "agent", "books")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(state, 0o711); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "run-recipe", "--root", root, "--state-dir", state,
		"--attributes-dir", filepath.Join(root, "srv", "agent", "attrs"),
		"--cookbooks", filepath.Join(root, "srv", "agent", "books"),
		"--plugin-dir", filepath.Join(root, "srv", "agent", "plugins"), "stackagent")
	if r.code != 0 {
		t.Fatalf("run-recipe stackagent: %+v", r)
	}
	for _, d := range []string{"state/runs", "attrs", "books", "plugins"} {
		if st, err := os.Stat(filepath.Join(root, "srv", "agent", d)); err != nil || !st.IsDir() {
			t.Errorf("%s not laid out: %v", d, err)
		}
	}
	for _, d := range []string{"var/lib/stackagent", "etc/stackagent", "usr/lib/stackagent"} {
		if _, err := os.Stat(filepath.Join(root, d)); !os.IsNotExist(err) {
			t.Errorf("the host default %s was created (%v)", d, err)
		}
	}
	if st, _ := os.Stat(state); st.Mode().Perm() != 0o711 {
		t.Errorf("the existing state dir was chmodded to %v", st.Mode().Perm())
	}
}
