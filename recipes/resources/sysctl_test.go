package resources

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestSysctlApply sets a harmless kernel parameter (the burst of printk's
// rate limit) now and in a sysctl.d file under a temporary root, then
// restores the running value.
func TestSysctlApply(t *testing.T) {
	t.Parallel()
	needRoot(t, "writes /proc/sys/kernel/printk_ratelimit_burst")
	const key, proc = "kernel.printk_ratelimit_burst", "/proc/sys/kernel/printk_ratelimit_burst"
	b, err := os.ReadFile(proc)
	if err != nil {
		t.Skipf("no %s: %v", proc, err)
	}
	was := strings.TrimSpace(string(b))
	t.Cleanup(func() { exec.Command("sysctl", "-w", key+"="+was).Run() })
	n, _ := strconv.Atoi(was)
	want := strconv.Itoa(n + 7)
	root := t.TempDir()
	o := recipestest.Opts{Root: root}
	recipe := `sysctl "` + key + `" { value = ` + want + `, comment = "stackagent test" }`
	res := sysConverge(t, o, recipe, 1)
	if !strings.Contains(res.Output, "set "+key+" from "+was+" to "+want) {
		t.Fatalf("output:\n%s", res.Output)
	}
	if got, _ := os.ReadFile(proc); strings.TrimSpace(string(got)) != want {
		t.Fatalf("%s = %s, want %s", proc, got, want)
	}
	file := filepath.Join(root, "etc/sysctl.d/99-stackagent-"+key+".conf")
	if got := readFile(t, file); got != "# stackagent test\n"+key+" = "+want+"\n" {
		t.Fatalf("%s:\n%s", file, got)
	}
	sysConverge(t, o, recipe, 0)
	sysConverge(t, o, `sysctl "`+key+`" { action = "remove" }`, 1)
	if pathExists(file) {
		t.Fatal("remove left the file")
	}
}

// TestSysctlRefusesBadKeys: a key that could name another file, or a
// value that would add a line, is a compile error.
func TestSysctlRefusesBadKeys(t *testing.T) {
	t.Parallel()
	o := recipestest.Opts{Root: t.TempDir()}
	for recipe, want := range map[string]string{
		`sysctl "../../etc/passwd" { value = 1 }`:     "is not a sysctl key",
		`sysctl "kernel..x" { value = 1 }`:            "is not a sysctl key",
		`sysctl "vm.swappiness" { value = "1\nx=2" }`: "want one line of words",
		`sysctl "vm.swappiness" {}`:                   "property value is required",
	} {
		if res := sysConvergeErr(t, o, recipe); !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: %v, want %s", recipe, res.Err, want)
		}
	}
}
