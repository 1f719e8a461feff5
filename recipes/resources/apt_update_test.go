package resources

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

// TestAptUpdatePeriodic judges freshness by the stamp under a temporary
// root: a fresh stamp means nothing to do; an old one refreshes the lists
// (as root) and touches the stamp.
func TestAptUpdatePeriodic(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "a Debian-family host (apt)", recipestest.Node().GetString("platform_family") == "debian")
	root := t.TempDir()
	stamp := filepath.Join(root, aptStamp)
	if err := touchFile(stamp); err != nil {
		t.Fatal(err)
	}
	o := recipestest.Opts{Root: root}
	sysConverge(t, o, `apt_update "lists"`, 0)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stamp, old, old)
	sysConverge(t, o, `apt_update "lists" { frequency = 86400 }`, 0)
	res := sysConverge(t, recipestest.Opts{Root: root, WhyRun: true}, `apt_update "lists" { frequency = 3600 }`, 1)
	if fi, _ := os.Stat(stamp); !fi.ModTime().Equal(old) {
		t.Fatalf("why-run touched the stamp\n%s", res.Output)
	}
	needRoot(t, "runs apt-get update")
	sysConverge(t, o, `apt_update "lists" { frequency = 3600 }`, 1)
	if fi, _ := os.Stat(stamp); time.Since(fi.ModTime()) > time.Minute {
		t.Fatal("stamp not touched after update")
	}
	sysConverge(t, o, `apt_update "lists" { frequency = 3600 }`, 0)
}
