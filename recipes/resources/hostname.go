package resources

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/recipes"
)

// hostnameKind is Chef's hostname: /etc/hostname, the running host name
// (hostname NAME, as argv) and, when an IP address is known (ipaddress,
// else node.ipaddress), one /etc/hosts line "IP FQDN SHORT ALIASES…"
// replacing the lines that named the host or that IP.
func hostnameKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "hostname", Actions: []string{"set"}, DefaultAction: "set",
		Doc: "set the host name (/etc/hostname, /etc/hosts, the running kernel)",
		Props: []recipes.Prop{
			{Name: "hostname", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "ipaddress", Type: recipes.String, Public: true, Note: "default node.ipaddress"},
			{Name: "aliases", Type: recipes.StringList},
			{Name: "fqdn_hostsfile", Type: recipes.Bool, Default: true},
		},
		Provider: recipes.ProviderFunc(planHostname),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error { return checkHostname(r) },
	}
}

func checkHostname(r *recipes.Resource) error {
	if err := recipes.CheckDomain("property hostname", r.Str("hostname"), false); err != nil {
		return err
	}
	for i, a := range r.Strings("aliases") {
		if err := recipes.CheckDomain(fmt.Sprintf("property aliases[%d]", i+1), a, false); err != nil {
			return err
		}
	}
	if ip := r.Str("ipaddress"); ip != "" && net.ParseIP(ip) == nil {
		return fmt.Errorf("property ipaddress: %q is not an IP address", ip)
	}
	return nil
}

func planHostname(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	if err := checkHostname(r); err != nil {
		return nil, err
	}
	name := r.Str("hostname")
	var steps []recipes.Step
	etc := rc.Path("/etc/hostname")
	if cur, err := os.ReadFile(etc); err != nil || strings.TrimSpace(string(cur)) != name {
		steps = append(steps, recipes.Step{Desc: "write " + name + " to /etc/hostname",
			Apply: func(context.Context) error { return atomicfile.WriteFile(etc, []byte(name+"\n"), 0o644) }})
	}
	hostsSteps, err := planHosts(rc, r, name)
	if err != nil {
		return nil, err
	}
	steps = append(steps, hostsSteps...)
	if cur, _ := os.Hostname(); cur != name {
		steps = append(steps, recipes.Step{Desc: fmt.Sprintf("set the running host name from %s to %s", cur, name),
			Apply: func(ctx context.Context) error { _, err := runOK(ctx, rc, newCmd("hostname", name)); return err }})
	}
	return steps, nil
}

// planHosts plans the /etc/hosts line of the host.
func planHosts(rc *recipes.RunContext, r *recipes.Resource, name string) ([]recipes.Step, error) {
	ip := r.Str("ipaddress")
	if ip == "" {
		ip = rc.Node.GetString("ipaddress")
	}
	if ip == "" || net.ParseIP(ip) == nil {
		return nil, nil
	}
	short, _, _ := strings.Cut(name, ".")
	words := []string{ip}
	if r.Bool("fqdn_hostsfile") && short != name {
		words = append(words, name)
	}
	words = append(append(words, short), r.Strings("aliases")...)
	line := strings.Join(words, " ")
	file := rc.Path("/etc/hosts")
	cur, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	next, changed := setLine(cur, line, func(l string, f []string) bool {
		if l == "" {
			return len(cur) == 0
		}
		return len(f) > 1 && !strings.HasPrefix(f[0], "#") && (f[0] == ip || containsAny(f[1:], name, short))
	})
	if !changed {
		return nil, nil
	}
	return []recipes.Step{{Desc: "set /etc/hosts line " + line, Apply: func(context.Context) error {
		return atomicfile.WriteFile(file, []byte(next), 0o644)
	}}}, nil
}

func containsAny(l []string, s ...string) bool {
	for _, x := range l {
		for _, y := range s {
			if x == y {
				return true
			}
		}
	}
	return false
}
