package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// Strict modes, after sshd's StrictModes: whoever can write the agent's
// config, state, inbox, cookbooks, attributes, roles, data bags or plugins
// is root on the host, so the agent refuses to start when someone other
// than root (or, run as a normal user, that user) owns one of these paths
// or a folder above it, or can write to it through its group or world
// bits. A root-owned sticky folder (/tmp) above is fine: others cannot
// rename what is in it. strict_modes: warn logs the problems and shows
// them in /healthz and `stackagent status` instead; off skips the checks.

// ErrStrictModes is returned (wrapped) when strict modes refuse to start.
var ErrStrictModes = errors.New("strict modes: paths others can write")

func (c *Config) validateStrictModes() error {
	switch c.StrictModes {
	case "", "on", "warn", "off":
		return nil
	}
	return &ConfigError{Key: "strict_modes", Msg: fmt.Sprintf("%q: want on, warn or off", c.StrictModes)}
}

// guardedPath is one path the agent trusts, and whether the files directly
// in it are checked too.
type guardedPath struct {
	key, path string
	entries   bool
}

func guardedPaths(cfg *Config, cfgPath string) []guardedPath {
	out := []guardedPath{{"config file", cfgPath, false}, {"state_dir", cfg.StateDir, false},
		{"inbox_dir", inboxDir(cfg), false}, {"attributes_dir", cfg.AttributesDir, true},
		{"roles_dir", cfg.RolesDir, true}, {"data_bags_dir", cfg.DataBagsDir, false},
		{"plugin_dir", cfg.PluginDir, true}}
	for _, d := range cfg.CookbookDirs {
		out = append(out, guardedPath{"cookbook_dirs", d, false})
	}
	return out
}

// ownershipProblems lists, for the process's user uid, each guarded path
// (or folder above it, or file in it) that someone else could change.
func ownershipProblems(cfg *Config, cfgPath string, uid int) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range guardedPaths(cfg, cfgPath) {
		if g.path == "" {
			continue
		}
		for _, p := range checkTrusted(g.path, uid, seen) {
			out = append(out, g.key+": "+p)
		}
		if !g.entries {
			continue
		}
		ents, _ := os.ReadDir(g.path)
		for _, e := range ents {
			p := filepath.Join(g.path, e.Name())
			if msg := untrusted(p, uid, false); msg != "" && !seen[p] {
				seen[p] = true
				out = append(out, g.key+": "+msg)
			}
		}
	}
	return out
}

// checkTrusted checks path (resolved through its links; when missing, the
// folder that would hold it) and every folder above it.
func checkTrusted(path string, uid int, seen map[string]bool) []string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	for {
		real, err := filepath.EvalSymlinks(abs)
		if err == nil {
			abs = real
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(abs) == abs {
			return []string{fmt.Sprintf("%s: %v", path, err)}
		}
		abs = filepath.Dir(abs) // not there yet: whoever can create it matters
	}
	var out []string
	for p, self := abs, true; ; p, self = filepath.Dir(p), false {
		if !seen[p] {
			seen[p] = true
			if msg := untrusted(p, uid, !self); msg != "" {
				out = append(out, msg)
			}
		}
		if filepath.Dir(p) == p {
			return out
		}
	}
}

// untrusted says what is wrong with one path ("" when nothing): owned by
// someone other than root or uid, or writable by its group or the world
// (allowed for a root-owned sticky folder above, like /tmp).
func untrusted(p string, uid int, above bool) string {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		return fmt.Sprintf("%s: %v", p, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	owner := int(st.Uid)
	if owner != 0 && owner != uid {
		want := "root"
		if uid != 0 {
			want = fmt.Sprintf("root or uid %d (the agent's user)", uid)
		}
		return fmt.Sprintf("%s is owned by uid %d, not %s (chown root %s)", p, owner, want, p)
	}
	mode := fi.Mode()
	if mode&0o022 == 0 || (above && fi.IsDir() && mode&os.ModeSticky != 0 && owner == 0) {
		return ""
	}
	who := "group"
	switch {
	case mode&0o022 == 0o022:
		who = "group and world"
	case mode&0o002 != 0:
		who = "world"
	}
	return fmt.Sprintf("%s is %s-writable (mode %04o; chmod go-w %s)", p, who, mode.Perm(), p)
}

// keyTextProblems lists world-readable files the agent reads that hold key
// text: a private key, or a credential key (password, secret, token,
// ssh_key, …) with a value in the config file or attributes JSON.
func keyTextProblems(cfg *Config, cfgPath string) []string {
	files := []string{cfgPath}
	if m, _ := filepath.Glob(filepath.Join(cfg.AttributesDir, "*.json")); m != nil {
		files = append(files, m...)
	}
	var out []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode()&0o004 == 0 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if k := keyText(string(b)); k != "" {
			out = append(out, fmt.Sprintf("%s is world-readable (mode %04o) and holds %s: chmod o-r %s", f, fi.Mode().Perm(), k, f))
		}
	}
	return out
}

// credentialLine matches `key: value` (YAML) and `"key": "value"` (JSON).
var credentialLine = lazyre.New(`(?m)(?:^|[{,\s])"?([A-Za-z0-9_.-]+)"?\s*:[ \t]*("?)([^"\s#{[][^"\n,}]*)`)

// keyText names the key text in s, or "".
func keyText(s string) string {
	if strings.Contains(s, "PRIVATE KEY-----") {
		return "a private key"
	}
	for _, m := range credentialLine().FindAllStringSubmatch(s, -1) {
		k, quoted, v := m[1], m[2], strings.TrimSpace(m[3])
		// A path names key text kept elsewhere; a secret reference
		// ({"secret": "ssm:NAME"}) names it in a store.
		if !recipes.CredentialKey(k) || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "ssm:") || strings.HasPrefix(v, "secretsmanager:") {
			continue
		}
		if quoted == "" && (v == "~" || v == "null" || v == "true" || v == "false") {
			continue
		}
		return "a value under " + k
	}
	return ""
}

// checkStrictModes runs the checks for the daemon: the problems to show
// as warnings (in /healthz too), or an error wrapping ErrStrictModes when
// strict modes refuse to start.
func checkStrictModes(cfg *Config, cfgPath string, log *slog.Logger) ([]string, error) {
	warnings := keyTextProblems(cfg, cfgPath)
	if cfg.StrictModes == "off" {
		return warnings, nil
	}
	own := ownershipProblems(cfg, cfgPath, os.Geteuid())
	if len(own) > 0 && cfg.StrictModes != "warn" {
		return warnings, fmt.Errorf("%w (set strict_modes: warn to start anyway):\n  %s", ErrStrictModes, strings.Join(own, "\n  "))
	}
	warnings = append(warnings, own...)
	for _, w := range warnings {
		log.Warn("security: "+w, "strict_modes", cfg.StrictModes)
	}
	return warnings, nil
}

// securityProblems is what `stackagent status` shows: the same checks as
// the daemon's start, for the user running status.
func securityProblems(cfg *Config, cfgPath string) []string {
	out := keyTextProblems(cfg, cfgPath)
	if cfg.StrictModes != "off" {
		out = append(out, ownershipProblems(cfg, cfgPath, os.Geteuid())...)
	}
	return out
}

func printSecurity(w io.Writer, cfg *Config, problems []string) {
	if len(problems) == 0 {
		return
	}
	what := "the daemon refuses to start (strict_modes: on)"
	if cfg.StrictModes == "warn" || cfg.StrictModes == "off" {
		what = "warnings (strict_modes: " + cfg.StrictModes + ")"
	}
	fmt.Fprintf(w, "\nsecurity: %s\n", what)
	for _, p := range problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
