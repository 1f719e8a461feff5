package resources

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// packageKind is Chef's package resource. The provider follows the node's
// platform_family: apt and dpkg on debian, dnf (or yum) and rpm on
// amazon, rhel and fedora. Several names are installed by one call of the
// package manager, as Chef's multipackage does.
func packageKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "package", Actions: []string{"install", "upgrade", "remove", "purge"}, DefaultAction: "install",
		Doc: "install, upgrade or remove packages with the platform's package manager",
		Props: []recipes.Prop{
			{Name: "package_name", Type: recipes.StringList, NameProperty: true},
			{Name: "version", Type: recipes.StringList},
			{Name: "options", Type: recipes.String},
			{Name: "timeout", Type: recipes.Number, Default: 900.0},
		},
		Provider: recipes.ProviderFunc(planPackage),
	}
}

// pkgState is what the host says of one package: the installed version
// ("" when not installed), whether configuration files are left behind
// (dpkg's config-files state), and the candidate version the package
// manager would install ("" when none) with the versions it offers.
type pkgState struct {
	Name       string
	Installed  string
	ConfigLeft bool
	Candidate  string
	Available  []string
}

// pkgManager is one platform's package tooling.
type pkgManager interface {
	// state reads the installed and candidate versions of the packages.
	// Candidates are only looked up when always is set or some package
	// is not installed: asking the repositories is the expensive part of a
	// no-op converge (apt-cache policy costs ~50 MB and up to a second).
	state(ctx context.Context, rc *recipes.RunContext, names []string, always bool) ([]pkgState, error)
	// command builds the call that applies action to the name(=version)s.
	command(action string, specs []string, options []string) recipes.Command
	// spec names a package at a version as the manager's command line does.
	spec(name, version string) string
}

func planPackage(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	names := r.Strings("package_name")
	versions := r.Strings("version")
	if err := checkPackageNames(names, versions); err != nil {
		return nil, err
	}
	if len(versions) > 0 && len(versions) != len(names) {
		return nil, fmt.Errorf("%d versions given for %d packages: give one version per package name", len(versions), len(names))
	}
	var pm pkgManager
	switch fam := platformFamily(rc); {
	case fam == "debian":
		pm = aptManager{db: hostDpkg}
	case isRPMFamily(fam):
		pm = dnfManager{yum: !hasDNF()}
	default:
		return nil, fmt.Errorf("no package provider for platform_family %q", fam)
	}
	needCandidates := action == "upgrade" || len(versions) > 0
	if action == "remove" || action == "purge" {
		needCandidates = false
	}
	states, err := pm.state(ctx, rc, names, needCandidates)
	if err != nil {
		return nil, err
	}
	desc, specs, err := pkgChanges(action, states, versions, pm)
	if err != nil || len(specs) == 0 {
		return nil, err
	}
	c := pm.command(action, specs, strings.Fields(r.Str("options")))
	c.Timeout = secondsProp(r, "timeout")
	return []recipes.Step{cmdStep(rc, desc, c)}, nil
}

// pkgChanges decides, from the packages' states, which ones action
// changes. It returns Chef's description of the change ("install version
// 2.10-3 of package hello") and the manager's specs for the command.
func pkgChanges(action string, states []pkgState, versions []string, pm pkgManager) (string, []string, error) {
	var names, vers, specs []string
	for i, st := range states {
		want := ""
		if len(versions) > 0 {
			want = versions[i]
		}
		var target string
		switch action {
		case "install", "upgrade":
			switch {
			case want != "" && st.Installed == want:
				continue
			case want != "":
				if !slices.Contains(st.Available, want) && st.Candidate != want {
					return "", nil, fmt.Errorf("version %s of package %s is not available (available: %s)", want, st.Name, orNone(st.Available))
				}
				target = want
			case st.Candidate == "" && st.Installed == "":
				return "", nil, fmt.Errorf("no candidate version available for %s", st.Name)
			case st.Installed != "" && (action == "install" || st.Candidate == "" || st.Installed == st.Candidate):
				continue
			default:
				target = st.Candidate
			}
			specs = append(specs, pm.spec(st.Name, target))
			if want == "" && action == "install" {
				specs[len(specs)-1] = st.Name
			}
		case "remove":
			if st.Installed == "" {
				continue
			}
			specs = append(specs, st.Name)
		case "purge":
			if st.Installed == "" && !st.ConfigLeft {
				continue
			}
			specs = append(specs, st.Name)
		}
		names, vers = append(names, st.Name), append(vers, target)
	}
	if len(specs) == 0 {
		return "", nil, nil
	}
	n := strings.Join(names, ", ")
	switch action {
	case "install":
		return fmt.Sprintf("install version %s of package %s", strings.Join(vers, ", "), n), specs, nil
	case "upgrade":
		return fmt.Sprintf("upgrade package %s to version %s", n, strings.Join(vers, ", ")), specs, nil
	}
	return fmt.Sprintf("%s package %s", action, n), specs, nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// pkgName is what Debian policy and rpm allow in a package name (plus an
// architecture qualifier), and pkgVersion a version: neither can start
// with "-", so no value becomes an option of apt-get, dpkg or dnf.
var (
	pkgName    = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9.+_-]*(:[a-z0-9]+)?$`)
	pkgVersion = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$`)
)

// checkPackageNames refuses a name or version the package manager would
// read as an option or that no package can have.
func checkPackageNames(names, versions []string) error {
	for i, n := range names {
		if !pkgName().MatchString(n) {
			return fmt.Errorf("package_name[%d]: invalid package name %q: want letters, digits and . + _ -, starting with a letter or digit", i+1, n)
		}
	}
	for i, v := range versions {
		if !pkgVersion().MatchString(v) {
			return fmt.Errorf("version[%d]: invalid package version %q", i+1, v)
		}
	}
	return nil
}
