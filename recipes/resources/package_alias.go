package resources

import (
	"context"
	"fmt"

	"github.com/stackagent/stackagent/recipes"
)

// Chef's apt_package, dnf_package and yum_package: package pinned to one
// package manager. They take package's properties and actions; on a host
// of another platform family they fail with an error that says so (Chef
// would run the named tool regardless; here the one provider per family
// keeps the package state readable).
func packageAliasKinds() []*recipes.Kind {
	return []*recipes.Kind{
		packageAlias("apt_package", "apt", func(fam string) bool { return fam == "debian" }),
		packageAlias("dnf_package", "dnf", isRPMFamily),
		packageAlias("yum_package", "yum (dnf where present)", isRPMFamily),
	}
}

func packageAlias(name, tool string, fits func(family string) bool) *recipes.Kind {
	k := packageKind()
	k.Name = name
	k.Doc = "package, with " + tool
	k.Provider = recipes.ProviderFunc(func(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
		if fam := platformFamily(rc); !fits(fam) {
			return nil, fmt.Errorf("%s manages packages with %s, which platform_family %q does not use: use package", name, tool, fam)
		}
		return planPackage(ctx, rc, r, action)
	})
	return k
}
