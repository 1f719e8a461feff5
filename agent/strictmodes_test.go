package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/telemetry"
)

func requireRootOwnership(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	if testing.Short() {
		t.Skip("root test")
	}
}

// TestStrictModesRefuse: as sshd's StrictModes, the daemon refuses to
// start, with an error naming the key, the path and the fix, over an
// inbox, attributes file, plugin or cookbook dir others can change (real
// chmod and chown); strict_modes: warn starts it anyway and lists the
// problems in /healthz and `stackagent status` (text and --json).
func TestStrictModesRefuse(t *testing.T) {
	t.Parallel()
	requireRootOwnership(t)
	cases := []struct {
		name, rel, want string
		mode            os.FileMode
		uid             int
	}{
		{"world-writable inbox", "state/inbox", "inbox_dir: ", 0o777, 0},
		{"group-writable cookbooks", "cb", "cookbook_dirs: ", 0o775, 0},
		{"attributes file of another user", "attrs/10-layers.json", "attributes_dir: ", 0o644, 65534},
		{"plugin dir of another user", "plugins", "plugin_dir: ", 0o755, 65534},
		{"state dir of another user", "state", "state_dir: ", 0o755, 65534},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newDaemonEnv(t, "--plugin-dir", "")
			e.args = append(e.args, "--plugin-dir", filepath.Join(e.root, "plugins"), "--inbox-dir", filepath.Join(e.state, "inbox"))
			p := filepath.Join(e.root, c.rel)
			if err := os.MkdirAll(filepath.Join(e.state, "inbox"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(e.root, "plugins"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, c.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, c.uid, c.uid); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, e.args...)
			if r.code != 1 || !strings.Contains(r.err, "strict modes") || !strings.Contains(r.err, c.want+p+" is ") ||
				!strings.Contains(r.err, "strict_modes: warn") {
				t.Fatalf("want a refusal naming %s%s: exit %d\n%s", c.want, p, r.code, r.err)
			}
			if c.uid == 0 && !strings.Contains(r.err, "chmod go-w "+p) {
				t.Errorf("the error should say how to fix it:\n%s", r.err)
			}
			if _, err := os.Stat(filepath.Join(e.state, "journal")); err == nil {
				t.Errorf("the daemon started anyway")
			}
			// Warn: it starts, and says so in /healthz and status.
			addr := freeAddr(t)
			args := append(append([]string{}, e.args...), "--strict-modes", "warn", "--metrics-address", addr)
			log := startDaemon(t, args)
			var h telemetry.HealthReport
			waitFor(t, "/healthz", 20*time.Second, func() bool {
				resp, err := http.Get("http://" + addr + "/healthz")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				return json.NewDecoder(resp.Body).Decode(&h) == nil && h.State == "polling"
			})
			if len(h.Warnings) == 0 || !strings.Contains(strings.Join(h.Warnings, "\n"), c.want+p) {
				t.Fatalf("/healthz warnings %q\n%s", h.Warnings, log.String())
			}
			if !strings.Contains(log.String(), "security: ") {
				t.Errorf("no warning logged:\n%s", log.String())
			}
			st := runCLI(t, "status", "--config", filepath.Join(e.root, "agent.yaml"), "--state-dir", e.state,
				"--metrics-address", addr, "--strict-modes", "warn", "--plugin-dir", filepath.Join(e.root, "plugins"),
				"--cookbook-dirs", filepath.Join(e.root, "cb"), "--attributes-dir", filepath.Join(e.root, "attrs"))
			if !strings.Contains(st.out, "security: warnings") || !strings.Contains(st.out, c.want+p) {
				t.Errorf("status:\n%s", st.out)
			}
			js := runCLI(t, "status", "--json", "--config", filepath.Join(e.root, "agent.yaml"), "--state-dir", e.state,
				"--metrics-address", addr, "--plugin-dir", filepath.Join(e.root, "plugins"),
				"--cookbook-dirs", filepath.Join(e.root, "cb"), "--attributes-dir", filepath.Join(e.root, "attrs"))
			var sj agentStatus
			if err := json.Unmarshal([]byte(js.out), &sj); err != nil || !strings.Contains(strings.Join(sj.Security, "\n"), c.want+p) {
				t.Errorf("status --json (%v):\n%s", err, js.out)
			}
		})
	}
}

// TestStrictModesKeyText: a world-readable config or attributes file that
// holds key text draws a warning at start; the same file 0600 does not.
func TestStrictModesKeyText(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	attrs := filepath.Join(e.root, "attrs", "20-db.json")
	writeTree(t, e.root, map[string]string{"attrs/20-db.json": `{"database": {"password": "plain-text-pw"}}`})
	cfg, _, err := loadConfig(filepath.Join(e.root, "agent.yaml"), true, cfgEnv(nil),
		map[string]string{"attributes_dir": filepath.Join(e.root, "attrs"), "state_dir": e.state})
	if err != nil {
		t.Fatal(err)
	}
	got := keyTextProblems(cfg, filepath.Join(e.root, "agent.yaml"))
	if len(got) != 1 || !strings.Contains(got[0], attrs+" is world-readable") || !strings.Contains(got[0], "password") {
		t.Fatalf("warnings %q", got)
	}
	if err := os.Chmod(attrs, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := keyTextProblems(cfg, filepath.Join(e.root, "agent.yaml")); len(got) != 0 {
		t.Fatalf("0600: warnings %q", got)
	}
	for s, want := range map[string]bool{
		"custom_cookbooks:\n  ssh_key: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n": true,
		"custom_cookbooks:\n  ssh_key: /etc/stackagent/deploy_key\n":                 false,
		`{"db": {"password": {"secret": "ssm:/prod/db"}}}`:                           false,
		`{"api_token": "abc"}`:          true,
		"plugin_checksums: [\"a=b\"]\n": false,
	} {
		if got := keyText(s) != ""; got != want {
			t.Errorf("keyText(%q) = %v, want %v", s, got, want)
		}
	}
}
