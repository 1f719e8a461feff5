package resources

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestSwapFile makes, resizes and removes a real 8 MB swap file as root
// (under a temporary root, whose /etc/fstab gets the persist line), and
// turns it off whatever happens.
func TestSwapFile(t *testing.T) {
	t.Parallel()
	needRoot(t, "swapon and swapoff")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	writeFile(t, filepath.Join(root, "etc/fstab"), "/dev/sda1 / ext4 defaults 0 1\n", 0o644)
	file := filepath.Join(root, "swap.img")
	t.Cleanup(func() { exec.Command("swapoff", file).Run() })
	o := recipestest.Opts{Root: root}
	res := recipestest.Converge(t, sysRegistry(), map[string]string{"test/recipes/default.lua": `swap_file "/swap.img" { size = 8, persist = true }`}, o)
	if res.Err != nil {
		if strings.Contains(res.Err.Error(), "swapon") {
			t.Skipf("swapon refused here: %v", res.Err)
		}
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	if !swapActive(file) {
		t.Fatal("swap not active")
	}
	if fi, _ := os.Stat(file); fi.Size() != 8<<20 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("swap file %v", fi)
	}
	if got := readFile(t, filepath.Join(root, "etc/fstab")); got != "/dev/sda1 / ext4 defaults 0 1\n/swap.img none swap defaults 0 0\n" {
		t.Fatalf("fstab:\n%s", got)
	}
	sysConverge(t, o, `swap_file "/swap.img" { size = 8, persist = true }`, 0)
	sysConverge(t, o, `swap_file "/swap.img" { size = 12, persist = true }`, 1)
	if fi, _ := os.Stat(file); fi.Size() != 12<<20 || !swapActive(file) {
		t.Fatalf("resize: %v active=%v", fi, swapActive(file))
	}
	sysConverge(t, o, `swap_file "/swap.img" { action = "remove" }`, 1)
	if swapActive(file) || pathExists(file) {
		t.Fatal("remove left the swap")
	}
	if got := readFile(t, filepath.Join(root, "etc/fstab")); got != "/dev/sda1 / ext4 defaults 0 1\n" {
		t.Fatalf("fstab after remove:\n%s", got)
	}
}
