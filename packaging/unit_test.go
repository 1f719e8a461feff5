package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/testenv"
)

const unitFile = "../systemd/stackagent.service"

// checkUnitVerifies runs systemd-analyze verify on a unit file and wants
// no output at all: verify exits 0 on unknown keys and only warns.
func checkUnitVerifies(t *testing.T, path string) {
	t.Helper()
	testenv.Command(t, "systemd-analyze", "Debian's systemd package has it; scripts/test-deps.sh installs it as root")
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}

// TestUnitVerifies checks the unit from the source tree with
// systemd-analyze verify, which needs no running systemd. verify checks
// that ExecStart's program exists, so the copy checked here points it at
// this test binary; the package test verifies the installed unit as it is.
func TestUnitVerifies(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(b), "/usr/bin/stackagent", self)
	path := filepath.Join(t.TempDir(), "stackagent.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	checkUnitVerifies(t, path)
}

// TestUnitSettings pins the unit's contract with the daemon and the
// package (docs/packaging.md).
func TestUnitSettings(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			set[k] = append(set[k], v)
		}
	}
	for k, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "WatchdogSec": "2min",
		"ExecStart": "/usr/bin/stackagent daemon --config /etc/stackagent/agent.yaml",
		"Restart":   "always", "RestartSec": "10s", "StartLimitIntervalSec": "0",
		"KillMode": "process", "TimeoutStopSec": "15min",
		"Wants":    "network-online.target",
		"After":    "network-online.target cloud-init.service cloud-config.service",
		"WantedBy": "multi-user.target",
	} {
		if got := strings.Join(set[k], " "); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	// A private mount namespace would hide a recipe's mounts (EFS) from
	// the rest of the host.
	for _, k := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "ReadOnlyPaths",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "NoNewPrivileges", "RestrictSUIDSGID"} {
		if v, ok := set[k]; ok {
			t.Errorf("%s=%s would break what the agent must do (see the unit's comment)", k, v[0])
		}
	}
}
