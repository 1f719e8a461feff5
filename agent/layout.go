package main

import (
	"os"
	"path/filepath"
	"strings"
)

// layout is where the agent's default paths are. As root: the host's
// (FHS) paths, /etc/stackagent, /var/lib/stackagent and
// /usr/lib/stackagent. As a normal user the embedded default must run
// too (`make run`), so the same tree moves to the user's XDG directories:
// config in $XDG_CONFIG_HOME/stackagent (~/.config/stackagent), state in
// $XDG_STATE_HOME/stackagent (~/.local/state/stackagent), plugins in
// $XDG_DATA_HOME/stackagent (~/.local/share/stackagent). A configured
// path always wins over these defaults.
type layout struct {
	configDir string // /etc/stackagent
	stateDir  string // /var/lib/stackagent
	libDir    string // /usr/lib/stackagent
	perUser   bool
}

const (
	hostConfigDir = "/etc/stackagent"
	hostStateDir  = "/var/lib/stackagent"
	hostLibDir    = "/usr/lib/stackagent"
)

var hostLayout = layout{configDir: hostConfigDir, stateDir: hostStateDir, libDir: hostLibDir}

// defaultLayout is the host layout for root, the per-user one for anyone
// else (when the environment names a home: without HOME or XDG variables
// there is no per-user place, and the host paths stay).
func defaultLayout(euid int, getenv func(string) string) layout {
	if euid == 0 {
		return hostLayout
	}
	xdg := func(v, rel string) string {
		if d := getenv(v); filepath.IsAbs(d) {
			return filepath.Join(d, "stackagent")
		}
		if h := getenv("HOME"); filepath.IsAbs(h) {
			return filepath.Join(h, rel, "stackagent")
		}
		return ""
	}
	l := layout{
		configDir: xdg("XDG_CONFIG_HOME", ".config"),
		stateDir:  xdg("XDG_STATE_HOME", filepath.Join(".local", "state")),
		libDir:    xdg("XDG_DATA_HOME", filepath.Join(".local", "share")),
		perUser:   true,
	}
	if l.configDir == "" || l.stateDir == "" || l.libDir == "" {
		return hostLayout
	}
	return l
}

// processLayout is the layout of this process (its user, its environment).
func processLayout() layout { return defaultLayout(os.Geteuid(), os.Getenv) }

// path maps a host default path (/etc/stackagent/…, /var/lib/stackagent/…,
// /usr/lib/stackagent/…) into this layout.
func (l layout) path(p string) string {
	for _, m := range [][2]string{{hostConfigDir, l.configDir}, {hostStateDir, l.stateDir}, {hostLibDir, l.libDir}} {
		if p == m[0] || strings.HasPrefix(p, m[0]+"/") {
			return m[1] + strings.TrimPrefix(p, m[0])
		}
	}
	return p
}

// config applies the layout to the default config's paths.
func (l layout) config(c Config) Config {
	c.StateDir = l.path(c.StateDir)
	c.CookbookDirs = []string{l.path(c.CookbookDirs[0])}
	c.AttributesDir = l.path(c.AttributesDir)
	c.RolesDir = l.path(c.RolesDir)
	c.DataBagsDir = l.path(c.DataBagsDir)
	c.PluginDir = l.path(c.PluginDir)
	return c
}

// describe is how the first log line names the layout.
func (l layout) describe() string {
	if l.perUser {
		return "per-user (not root): config " + l.configDir + ", state " + l.stateDir
	}
	return "host"
}
