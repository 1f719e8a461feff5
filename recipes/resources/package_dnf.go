package resources

import (
	"context"
	"os/exec"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// dnfManager is the package provider of the rpm families (amazon, rhel,
// fedora): rpm -q for what is installed, dnf (yum where there is no dnf)
// for candidates and changes. Versions are rpm's VERSION-RELEASE.
type dnfManager struct{ yum bool }

var _ pkgManager = dnfManager{}

func hasDNF() bool {
	_, err := exec.LookPath("dnf")
	return err == nil
}

func (m dnfManager) tool() string {
	if m.yum {
		return "yum"
	}
	return "dnf"
}

func (m dnfManager) state(ctx context.Context, rc *recipes.RunContext, names []string, _ bool) ([]pkgState, error) {
	out := make([]pkgState, len(names))
	for i, n := range names {
		out[i].Name = n
		// rpm -q exits 1 for a package that is not installed.
		q, err := runWant(ctx, rc, newCmd("rpm", "-q", "--queryformat", "%{VERSION}-%{RELEASE}\n", n), []int{0, 1}, false)
		if err != nil {
			return nil, err
		}
		if q.ExitCode == 0 {
			out[i].Installed = lastLine(string(q.Stdout))
		}
		// list --showduplicates prints every version the repositories
		// offer: "name.arch  version-release  repo".
		l, err := runWant(ctx, rc, newCmd(m.tool(), "-q", "list", "--available", "--showduplicates", n), []int{0, 1}, false)
		if err != nil {
			return nil, err
		}
		out[i].Available = parseDNFList(string(l.Stdout), n)
		if k := len(out[i].Available); k > 0 {
			out[i].Candidate = out[i].Available[k-1]
		}
	}
	return out, nil
}

// parseDNFList reads `dnf list --available --showduplicates NAME` and
// returns the versions of NAME, oldest first, without epochs.
func parseDNFList(out, name string) []string {
	var vers []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pkg, _, _ := strings.Cut(f[0], ".")
		if f[0] != name && pkg != name && !strings.HasPrefix(f[0], name+".") {
			continue
		}
		v := f[1]
		if _, after, ok := strings.Cut(v, ":"); ok {
			v = after
		}
		vers = append(vers, v)
	}
	return vers
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (dnfManager) spec(name, version string) string { return name + "-" + version }

func (m dnfManager) command(action string, specs, options []string) recipes.Command {
	verb := map[string]string{"install": "install", "upgrade": "install", "remove": "remove", "purge": "remove"}[action]
	args := append([]string{"-y", "-q"}, options...)
	return newCmd(m.tool(), append(append(args, verb), specs...)...)
}
