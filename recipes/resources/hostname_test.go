package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestHostname writes /etc/hostname and the host's /etc/hosts line under
// a temporary root (the running host name is set through a recording
// runner: this machine's name is not the test's to change).
func TestHostname(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	hosts := "127.0.0.1 localhost\n127.0.1.1 old-name web1\n# 10.0.0.5 web1 (a comment stays)\n"
	writeFile(t, filepath.Join(root, "etc/hosts"), hosts, 0o644)
	rr := &recordRunner{}
	o := recipestest.Opts{Root: root, Runner: rr}
	recipe := `hostname "web1.example.com" { ipaddress = "10.0.0.5", aliases = {"wp"} }`
	sysConverge(t, o, recipe, 1)
	if got := readFile(t, filepath.Join(root, "etc/hostname")); got != "web1.example.com\n" {
		t.Fatalf("/etc/hostname = %q", got)
	}
	want := "127.0.0.1 localhost\n# 10.0.0.5 web1 (a comment stays)\n10.0.0.5 web1.example.com web1 wp\n"
	if got := readFile(t, filepath.Join(root, "etc/hosts")); got != want {
		t.Fatalf("/etc/hosts:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.Join(rr.recorded(), "; "); got != "hostname web1.example.com" {
		t.Fatalf("commands: %s", got)
	}
	res := sysConverge(t, o, recipe, -1) // the running name is not changed by the recorder
	if strings.Contains(res.Output, "/etc/hosts") || strings.Contains(res.Output, "write web1") {
		t.Fatalf("files not idempotent:\n%s", res.Output)
	}
	for recipe, want := range map[string]string{
		`hostname "bad_name;reboot"`:                   "invalid domain name",
		`hostname "h" { ipaddress = "10.0.0.5 evil" }`: "is not an IP address",
		`hostname "h" { aliases = {"a\nb"} }`:          "property aliases[1]",
	} {
		if res := sysConvergeErr(t, o, recipe); !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %s", recipe, res.Err, want)
		}
	}
}
