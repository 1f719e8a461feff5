package resources

import (
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestPackageAliasOnOtherPlatform: apt_package on an rpm host (and
// dnf_package on a Debian one) fails with an error naming the tool and
// the platform, before any command runs.
func TestPackageAliasOnOtherPlatform(t *testing.T) {
	t.Parallel()
	for recipe, fam := range map[string]string{`apt_package "curl"`: "rhel", `dnf_package "curl"`: "debian", `yum_package "curl"`: "debian"} {
		rr := &recordRunner{}
		res := sysConvergeErr(t, recipestest.Opts{Root: t.TempDir(), Runner: rr, Automatic: map[string]any{"platform_family": fam}}, recipe)
		if !strings.Contains(res.Err.Error(), `which platform_family "`+fam+`" does not use: use package`) || len(rr.recorded()) != 0 {
			t.Errorf("%s on %s: %v (ran %q)", recipe, fam, res.Err, rr.recorded())
		}
	}
}
