package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaintainerScripts runs the maintainer scripts with dpkg's and rpm's
// arguments against a fake systemctl that records its calls, with systemd
// running and not (an image build, a container). purge is left to the
// dpkg test: it removes /var/lib/stackagent for real.
func TestMaintainerScripts(t *testing.T) {
	t.Parallel()
	const u = "stackagent.service"
	for _, c := range []struct {
		script  string
		args    []string
		running bool
		want    []string
	}{
		// Install enables, never starts; systemd running or not.
		{"postinstall", []string{"configure", ""}, true, []string{"daemon-reload", "enable " + u}},
		{"postinstall", []string{"configure", ""}, false, []string{"enable " + u}},
		{"postinstall", []string{"1"}, true, []string{"daemon-reload", "enable " + u}},
		{"postinstall", []string{"1"}, false, []string{"enable " + u}},
		// Upgrade restarts a running agent without waiting, keeps enablement as the operator left it.
		{"postinstall", []string{"configure", "1.0.0-1"}, true, []string{"daemon-reload", "--no-block try-restart " + u}},
		{"postinstall", []string{"configure", "1.0.0-1"}, false, nil},
		{"postinstall", []string{"2"}, true, []string{"daemon-reload", "--no-block try-restart " + u}},
		{"postinstall", []string{"abort-upgrade", "1.0.1-1"}, true, []string{"daemon-reload", "--no-block try-restart " + u}},
		// Removal stops and disables; an upgrade's pre-remove does nothing.
		{"preremove", []string{"remove"}, true, []string{"stop " + u, "disable " + u}},
		{"preremove", []string{"remove"}, false, []string{"disable " + u}},
		{"preremove", []string{"0"}, true, []string{"stop " + u, "disable " + u}},
		{"preremove", []string{"upgrade", "1.0.1-1"}, true, nil},
		{"preremove", []string{"1"}, true, nil},
		{"postremove", []string{"remove"}, true, []string{"daemon-reload", "reset-failed " + u}},
		{"postremove", []string{"remove"}, false, nil},
		{"postremove", []string{"0"}, true, []string{"daemon-reload", "reset-failed " + u}},
		{"postremove", []string{"upgrade", "1.0.1-1"}, true, nil},
		{"postremove", []string{"1"}, true, nil},
	} {
		name := c.script + " " + strings.Join(c.args, " ")
		if !c.running {
			name += " (no systemd)"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			calls := runScript(t, c.script, c.args, c.running, true)
			if strings.Join(calls, "|") != strings.Join(c.want, "|") {
				t.Errorf("systemctl calls %q, want %q", calls, c.want)
			}
		})
	}
}

// TestScriptsWithoutSystemctl: a container without systemd at all installs
// and removes cleanly.
func TestScriptsWithoutSystemctl(t *testing.T) {
	t.Parallel()
	for _, s := range [][]string{{"postinstall", "configure", ""}, {"postinstall", "configure", "1.0.0-1"}, {"preremove", "remove"}, {"postremove", "remove"}} {
		runScript(t, s[0], s[1:], false, false)
	}
}

// fakeBin holds a fake systemctl that appends its arguments to
// $FAKE_SYSTEMCTL_LOG; emptyBin holds nothing. TestMain writes them before
// any test runs: writing an executable while parallel tests fork would
// make running it fail with ETXTBSY.
var fakeBin, emptyBin string

func writeFakeSystemctl(dir string) error {
	fakeBin, emptyBin = filepath.Join(dir, "bin"), filepath.Join(dir, "empty")
	if err := os.MkdirAll(emptyBin, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(fakeBin, 0o755); err != nil {
		return err
	}
	fake := "#!/bin/sh\necho \"$*\" >> \"$FAKE_SYSTEMCTL_LOG\"\n"
	return os.WriteFile(filepath.Join(fakeBin, "systemctl"), []byte(fake), 0o755)
}

// runScript runs scripts/NAME.sh with sh, a PATH holding only a fake
// systemctl (when withSystemctl) and sh's builtins, and returns the
// systemctl calls. The script must exit 0.
func runScript(t *testing.T, name string, args []string, running, withSystemctl bool) []string {
	t.Helper()
	dir := t.TempDir()
	bin, log, sysdir := emptyBin, filepath.Join(dir, "calls"), filepath.Join(dir, "run-systemd-system")
	if withSystemctl {
		bin = fakeBin
	}
	if running {
		if err := os.Mkdir(sysdir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, append([]string{filepath.Join("scripts", name+".sh")}, args...)...)
	cmd.Env = []string{"PATH=" + bin, "STACKAGENT_SYSTEMD_DIR=" + sysdir, "FAKE_SYSTEMCTL_LOG=" + log}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	b, _ := os.ReadFile(log)
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
