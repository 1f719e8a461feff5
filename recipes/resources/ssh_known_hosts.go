package resources

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

var sshKeyRe = lazyre.New(`^[A-Za-z0-9+/]+=*$`)

// sshKeyTypes maps Chef's key_type values to the names known_hosts uses.
var sshKeyTypes = map[string]string{
	"rsa": "ssh-rsa", "ssh-rsa": "ssh-rsa", "ed25519": "ssh-ed25519", "ssh-ed25519": "ssh-ed25519",
	"ecdsa": "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256": "ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384": "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": "ecdsa-sha2-nistp521",
}

// sshKnownHostsKind is Chef's ssh_known_hosts_entry: one host's key in
// /etc/ssh/ssh_known_hosts (or file_location), given as key or read with
// ssh-keyscan (argv) when not. An entry of the same host and key type is
// replaced; the other lines stay.
func sshKnownHostsKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "ssh_known_hosts_entry", Actions: []string{"create"}, DefaultAction: "create",
		Doc: "add a host's key to ssh_known_hosts",
		Props: []recipes.Prop{
			{Name: "host", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "key", Type: recipes.String, Note: "base64 key; default: ssh-keyscan"},
			{Name: "key_type", Type: recipes.String, Default: "rsa"},
			{Name: "port", Type: recipes.Int, Default: int64(22)},
			{Name: "file_location", Type: recipes.String, Default: "/etc/ssh/ssh_known_hosts", Public: true},
			{Name: "timeout", Type: recipes.Number, Default: 30.0},
		},
		Provider: recipes.ProviderFunc(planKnownHost),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error { _, _, err := knownHostSpec(r); return err },
	}
}

// knownHostSpec returns the host field ("h" or "[h]:port") and the key type.
func knownHostSpec(r *recipes.Resource) (string, string, error) {
	host := r.Str("host")
	if net.ParseIP(host) == nil {
		if err := recipes.CheckDomain("property host", host, false); err != nil {
			return "", "", err
		}
	}
	typ, ok := sshKeyTypes[r.Str("key_type")]
	if !ok {
		return "", "", fmt.Errorf("property key_type: %q: want rsa, ed25519 or ecdsa", r.Str("key_type"))
	}
	if k := r.Str("key"); k != "" && !sshKeyRe().MatchString(k) {
		return "", "", fmt.Errorf("property key: want the base64 key alone")
	}
	if _, err := recipes.CheckPort("property port", r.Int("port")); err != nil {
		return "", "", err
	}
	if err := recipes.CheckPath("property file_location", r.Str("file_location")); err != nil {
		return "", "", err
	}
	if p := r.Int("port"); p != 22 {
		host = "[" + host + "]:" + strconv.FormatInt(p, 10)
	}
	return host, typ, nil
}

func planKnownHost(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	host, typ, err := knownHostSpec(r)
	if err != nil {
		return nil, err
	}
	key := r.Str("key")
	if key == "" {
		if key, err = keyscan(ctx, rc, r, typ); err != nil {
			return nil, err
		}
	}
	line := host + " " + typ + " " + key
	display := r.Str("file_location")
	file := rc.Path(display)
	cur, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	next, changed := setLine(cur, line, func(l string, f []string) bool {
		return l == "" || (len(f) >= 2 && f[1] == typ && containsAny(strings.Split(f[0], ","), host))
	})
	if !changed {
		return nil, nil
	}
	return []recipes.Step{{Desc: fmt.Sprintf("add %s %s key to %s", host, typ, display), Apply: func(context.Context) error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		return atomicfile.WriteFile(file, []byte(next), 0o644)
	}}}, nil
}

// keyscan reads the host's key of typ with ssh-keyscan.
func keyscan(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, typ string) (string, error) {
	c := newCmd("ssh-keyscan", "-T", strconv.Itoa(int(r.Num("timeout"))), "-p", strconv.FormatInt(r.Int("port"), 10), "-t", typ, r.Str("host"))
	res, err := runOK(ctx, rc, c)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1] == typ && sshKeyRe().MatchString(f[2]) {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("ssh-keyscan found no %s key for %s", typ, r.Str("host"))
}
