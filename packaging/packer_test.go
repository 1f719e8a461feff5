package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/testenv"
)

// TestPackerTemplate checks the Packer template here, where AWS cannot be
// reached (packer validate would look the source AMIs up): packer fmt
// -check parses the HCL and wants it formatted, and validate -syntax-only
// checks the blocks. Debian 12's packer (1.6.6) predates the packer {}
// block's required_plugins; for it the syntax check runs on a copy without
// that block, which the amazon-ebs builder 1.6.6 bundles does not need.
func TestPackerTemplate(t *testing.T) {
	t.Parallel()
	testenv.Command(t, "packer", "Debian's packer package; scripts/test-deps.sh installs it as root")
	packer := func(args ...string) *exec.Cmd {
		cmd := exec.Command("packer", args...)
		// No update check: packer would call HashiCorp's checkpoint service.
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		return cmd
	}
	if out, err := packer("fmt", "-check", "-diff", "packer").CombinedOutput(); err != nil {
		t.Fatalf("packer fmt -check: %v\n%s", err, out)
	}
	out, err := packer("validate", "-syntax-only", "packer").CombinedOutput()
	if err == nil {
		return
	}
	if !strings.Contains(string(out), "Unsupported Packer Core version") {
		t.Fatalf("packer validate -syntax-only: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join("packer", "stackagent.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	stripped := regexp.MustCompile(`(?ms)^packer \{.*?^\}\n`).ReplaceAll(b, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stackagent.pkr.hcl"), stripped, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := packer("validate", "-syntax-only", dir).CombinedOutput(); err != nil {
		t.Fatalf("packer validate -syntax-only (without the packer block, for packer < 1.7): %v\n%s", err, out)
	}
}
