package resources

import (
	"context"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// aptManager is the package provider of the debian family: dpkg's
// status file (dpkg-query when it cannot be read in-process) for what is
// installed, apt-cache policy for candidates, apt-get to change.
type aptManager struct {
	db *dpkgDB // nil: always dpkg-query
}

var _ pkgManager = aptManager{}

func (m aptManager) state(ctx context.Context, rc *recipes.RunContext, names []string, always bool) ([]pkgState, error) {
	installed, err := m.installed(ctx, rc, names)
	if err != nil {
		return nil, err
	}
	if !always && allInstalled(installed, names) {
		out := make([]pkgState, len(names))
		for i, n := range names {
			base, _, _ := strings.Cut(n, ":")
			out[i] = installed[base]
			out[i].Name = n
		}
		return out, nil
	}
	p, err := runOK(ctx, rc, newCmd("apt-cache", append([]string{"policy"}, names...)...))
	if err != nil {
		return nil, err
	}
	policy := parseAptPolicy(string(p.Stdout))
	out := make([]pkgState, len(names))
	for i, n := range names {
		base, _, _ := strings.Cut(n, ":")
		st := installed[base]
		pol := policy[n]
		st.Name, st.Candidate, st.Available = n, pol.Candidate, pol.Available
		out[i] = st
	}
	return out, nil
}

// installed is dpkg's state of the packages, read from its status file,
// or from dpkg-query when that file is not usable as it stands.
func (m aptManager) installed(ctx context.Context, rc *recipes.RunContext, names []string) (map[string]pkgState, error) {
	if m.db != nil {
		pkgs, err := m.db.lookup(names)
		if err == nil {
			return pkgs, nil
		}
		rc.Log.Warn("package: reading dpkg's database with dpkg-query", "reason", err)
	}
	// dpkg-query exits 1 when some name is unknown to dpkg; the known ones
	// are still listed.
	q, err := runWant(ctx, rc, newCmd("dpkg-query", append([]string{"-W", "-f=${Package}\t${Status}\t${Version}\n"}, names...)...), []int{0, 1}, false)
	if err != nil {
		return nil, err
	}
	return parseDpkgQuery(string(q.Stdout)), nil
}

// parseDpkgQuery reads `dpkg-query -W -f='${Package}\t${Status}\t${Version}\n'`
// into states keyed by package name. Only "install ok installed" counts as
// installed; "deinstall ok config-files" leaves configuration behind.
func parseDpkgQuery(out string) map[string]pkgState {
	m := map[string]pkgState{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		st := m[f[0]]
		status := strings.Fields(f[1])
		switch {
		case len(status) == 3 && status[2] == "installed":
			st.Installed = f[2]
		case len(status) == 3 && status[2] == "config-files":
			st.ConfigLeft = true
		}
		m[f[0]] = st
	}
	return m
}

// aptPolicy is one package's block of apt-cache policy.
type aptPolicy struct {
	Installed, Candidate string
	Available            []string
}

// parseAptPolicy reads `apt-cache policy NAME…`: per package its
// installed and candidate versions ("(none)" becomes "") and the versions
// of its version table.
func parseAptPolicy(out string) map[string]aptPolicy {
	m := map[string]aptPolicy{}
	var name string
	var cur aptPolicy
	inTable := false
	flush := func() {
		if name != "" {
			m[name] = cur
		}
	}
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case line == "":
		case !strings.HasPrefix(line, " ") && strings.HasSuffix(line, ":"):
			flush()
			name, cur, inTable = strings.TrimSuffix(line, ":"), aptPolicy{}, false
		case strings.HasPrefix(trimmed, "Installed:"):
			cur.Installed = noneEmpty(strings.TrimSpace(strings.TrimPrefix(trimmed, "Installed:")))
		case strings.HasPrefix(trimmed, "Candidate:"):
			cur.Candidate = noneEmpty(strings.TrimSpace(strings.TrimPrefix(trimmed, "Candidate:")))
		case strings.HasPrefix(trimmed, "Version table:"):
			inTable = true
		case inTable && (strings.HasPrefix(line, "     ") || strings.HasPrefix(line, " *** ")) && !strings.HasPrefix(line, "        "):
			f := strings.Fields(strings.TrimPrefix(trimmed, "*** "))
			if len(f) > 0 {
				cur.Available = append(cur.Available, f[0])
			}
		}
	}
	flush()
	return m
}

func noneEmpty(v string) string {
	if v == "(none)" {
		return ""
	}
	return v
}

func (aptManager) spec(name, version string) string { return name + "=" + version }

// command builds apt-get's call: quiet, assuming yes, keeping changed
// configuration files (confdef/confold), never asking (noninteractive)
// and waiting for dpkg's lock, which cloud-init or unattended-upgrades
// may hold when a host boots.
func (aptManager) command(action string, specs, options []string) recipes.Command {
	args := []string{"-q", "-y", "-o", aptLockWait, "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"}
	args = append(args, options...)
	switch action {
	case "install", "upgrade":
		args = append(args, "--allow-downgrades", "install")
	default:
		args = append(args, action)
	}
	c := newCmd("apt-get", append(args, specs...)...)
	c.Env = []string{"DEBIAN_FRONTEND=noninteractive"}
	return c
}

// aptLockWait makes apt-get wait up to five minutes for dpkg's lock.
const aptLockWait = "DPkg::Lock::Timeout=300"

// allInstalled tells whether dpkg lists every name as installed.
func allInstalled(installed map[string]pkgState, names []string) bool {
	for _, n := range names {
		base, _, _ := strings.Cut(n, ":")
		if installed[base].Installed == "" {
			return false
		}
	}
	return true
}
