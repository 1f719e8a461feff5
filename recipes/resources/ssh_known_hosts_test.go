package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestSSHKnownHostsEntry adds a given key and a scanned one (through a
// recording runner standing in for ssh-keyscan), replaces a host's stale
// key of the same type, keeps other lines, and is idempotent.
func TestSSHKnownHostsEntry(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	file := filepath.Join(root, "etc/ssh/ssh_known_hosts")
	os.MkdirAll(filepath.Dir(file), 0o755)
	writeFile(t, file, "other.example ssh-ed25519 AAAAother\ngithub.com,140.82.112.3 ssh-ed25519 AAAAstale\n", 0o644)
	rr := &recordRunner{stdout: map[string]string{"ssh-keyscan -T 30 -p 2222 -t ssh-rsa git.example.com": "# git.example.com:2222 SSH-2.0\n[git.example.com]:2222 ssh-rsa AAAAscanned==\n"}}
	o := recipestest.Opts{Root: root, Runner: rr}
	recipe := `
ssh_known_hosts_entry "github.com" { key_type = "ed25519", key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }
ssh_known_hosts_entry "git.example.com" { port = 2222 }
`
	sysConverge(t, o, recipe, 2)
	want := "other.example ssh-ed25519 AAAAother\ngithub.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n[git.example.com]:2222 ssh-rsa AAAAscanned==\n"
	if got := readFile(t, file); got != want {
		t.Fatalf("known hosts:\n%s\nwant:\n%s", got, want)
	}
	sysConverge(t, o, recipe, 0)
	for recipe, want := range map[string]string{
		`ssh_known_hosts_entry "h;evil" { key = "AAAA" }`:                     "invalid domain name",
		`ssh_known_hosts_entry "h" { key = "AAAA\nevil ssh-rsa BBBB" }`:       "want the base64 key alone",
		`ssh_known_hosts_entry "h" { key = "AAAA", key_type = "dsa" }`:        "want rsa, ed25519 or ecdsa",
		`ssh_known_hosts_entry "h" { key = "AAAA", file_location = "rel/x" }`: "property file_location",
	} {
		if res := sysConvergeErr(t, o, recipe); !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %s", recipe, res.Err, want)
		}
	}
}
