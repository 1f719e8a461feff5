package packaging

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stackagent/stackagent/testenv"
)

// The versions the tests build: the first is installed, the second is the
// upgrade.
const (
	oldVersion = "1.0.0+test"
	newVersion = "1.0.1+test"
)

// built holds packages built once per test binary, by version.
var built struct {
	sync.Mutex
	dirs map[string]string
	errs map[string]error
}

// buildPackages runs build.sh (what make package runs) into a shared
// temporary folder once per version and returns the folder.
func buildPackages(t *testing.T, version, arches, formats string) string {
	t.Helper()
	testenv.Short(t, "builds packages")
	testenv.Command(t, "go", "the Go toolchain builds the packages")
	built.Lock()
	defer built.Unlock()
	key := version + "|" + arches + "|" + formats
	if built.dirs == nil {
		built.dirs, built.errs = map[string]string{}, map[string]error{}
	}
	if dir, ok := built.dirs[key]; ok {
		if err := built.errs[key]; err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "stackagent-packages-")
	if err != nil {
		t.Fatal(err)
	}
	built.dirs[key] = dir
	cmd := exec.Command("./build.sh")
	cmd.Env = append(os.Environ(), "PKG_VERSION="+version, "ARCHES="+arches, "FORMATS="+formats, "OUT="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		built.errs[key] = fmt.Errorf("build.sh %s: %v\n%s", key, err, out)
		t.Fatal(built.errs[key])
	}
	return dir
}

// TestMain writes the fake systemctl, runs the tests, and removes the
// built packages.
func TestMain(m *testing.M) {
	tools, err := os.MkdirTemp("", "stackagent-fake-systemctl-")
	if err == nil {
		err = writeFakeSystemctl(tools)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	for _, dir := range built.dirs {
		os.RemoveAll(dir)
	}
	os.RemoveAll(tools)
	os.Exit(code)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func glob(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("want one %s in %s, found %q", pattern, dir, m)
	}
	return m[0]
}

func nativeArch(t *testing.T) string {
	t.Helper()
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("packages are built for amd64 and arm64, this is %s", runtime.GOARCH)
	}
	return runtime.GOARCH
}

// TestRPMContents builds both architectures in both formats (make
// package) and lists each .rpm with rpm -qpl: files, modes, the config
// file mark, the architecture names rpm and dpkg use.
func TestRPMContents(t *testing.T) {
	t.Parallel()
	dir := buildPackages(t, oldVersion, "amd64 arm64", "deb rpm")
	for arch, names := range map[string][2]string{"amd64": {"x86_64", "amd64"}, "arm64": {"aarch64", "arm64"}} {
		deb := glob(t, dir, "stackagent_*_"+names[1]+".deb")
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, "Architecture")); got != names[1] {
			t.Errorf("%s: Architecture %q, want %q", deb, got, names[1])
		}
		testenv.Command(t, "rpm", "scripts/test-deps.sh installs Debian's rpm as root; the .rpm was built but not listed")
		rpm := glob(t, dir, "stackagent-*."+names[0]+".rpm")
		list := run(t, "rpm", "-qpl", rpm)
		for _, f := range []string{"/usr/bin/stackagent", "/usr/lib/systemd/system/stackagent.service", "/etc/stackagent/agent.yaml",
			"/etc/stackagent/cookbooks", "/etc/stackagent/attributes.d", "/var/lib/stackagent", "/usr/lib/stackagent/plugins"} {
			if !strings.Contains("\n"+list, "\n"+f+"\n") {
				t.Errorf("%s (%s): rpm -qpl lacks %s:\n%s", rpm, arch, f, list)
			}
		}
		q := run(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n[%{FILEMODES:perms} %{FILEFLAGS:fflags} %{FILENAMES}\n]", rpm)
		for _, want := range []string{
			"stackagent " + oldVersion + " 1 " + names[0] + "\n",
			"-rwxr-xr-x  /usr/bin/stackagent\n",
			"-rw-r----- cn /etc/stackagent/agent.yaml\n", // %config(noreplace)
			"drwxr-x---  /var/lib/stackagent\n",
		} {
			if !strings.Contains(q, want) {
				t.Errorf("%s: want %q in\n%s", rpm, want, q)
			}
		}
		scripts := run(t, "rpm", "-qp", "--scripts", rpm)
		for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet"} {
			if !strings.Contains(scripts, s) {
				t.Errorf("%s: no %s", rpm, s)
			}
		}
	}
}

// TestDebLifecycle installs the .deb with dpkg on this machine, upgrades it
// to a newer build keeping an edited config, removes and purges it, and
// checks that nothing is left. The machine is left clean even on failure,
// and a host where the agent has run (make run, a benchmark) gets its
// state back: the agent's folders are set aside first and put back after.
func TestDebLifecycle(t *testing.T) {
	testenv.Root(t, "installs a package with dpkg")
	testenv.Command(t, "dpkg", "the .deb lifecycle test needs a Debian-family machine")
	installed := false
	if st, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "stackagent").Output(); err == nil && !strings.Contains(string(st), "not-installed") {
		installed = true
	}
	testenv.Require(t, "no stackagent package installed on this machine (the test would replace it)", !installed)
	arch := nativeArch(t)
	setAside(t)
	oldDir := buildPackages(t, oldVersion, "amd64 arm64", "deb rpm")
	newDir := buildPackages(t, newVersion, arch, "deb")
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "stackagent").CombinedOutput(); err != nil {
			t.Errorf("clean-up: dpkg --purge stackagent: %v\n%s", err, out)
		}
	})
	oldDeb, newDeb := glob(t, oldDir, "stackagent_*_"+arch+".deb"), glob(t, newDir, "stackagent_*_"+arch+".deb")

	// Install.
	run(t, "dpkg", "-i", oldDeb)
	checkInstalled(t, oldVersion)
	packaged, _ := os.ReadFile("agent.yaml")
	if b, _ := os.ReadFile("/etc/stackagent/agent.yaml"); !bytes.Equal(b, packaged) {
		t.Error("/etc/stackagent/agent.yaml is not packaging/agent.yaml")
	}
	checkUnitVerifies(t, "/usr/lib/systemd/system/stackagent.service")

	// Upgrade, with an edited config and state that must both survive.
	edited := append(packaged, []byte("\n# edited by the package test\nstack: edited\n")...)
	if err := os.WriteFile("/etc/stackagent/agent.yaml", edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/var/lib/stackagent/runs", 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/var/lib/stackagent/journal.jsonl", []byte("{}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	out := run(t, "dpkg", "-i", newDeb)
	checkInstalled(t, newVersion)
	if b, _ := os.ReadFile("/etc/stackagent/agent.yaml"); !bytes.Equal(b, edited) {
		t.Errorf("the upgrade changed the edited config:\n%s\n%s", b, out)
	}
	for _, f := range []string{"/etc/stackagent/agent.yaml.dpkg-new", "/etc/stackagent/agent.yaml.dpkg-dist", "/etc/stackagent/agent.yaml.dpkg-old"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s after the upgrade", f)
		}
	}
	if _, err := os.Stat("/var/lib/stackagent/journal.jsonl"); err != nil {
		t.Errorf("state lost in the upgrade: %v", err)
	}

	// Remove: program and unit go, config and state stay.
	run(t, "dpkg", "-r", "stackagent")
	for _, gone := range []string{"/usr/bin/stackagent", "/usr/lib/systemd/system/stackagent.service", wantsLink} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is still there after dpkg -r", gone)
		}
	}
	for _, kept := range []string{"/etc/stackagent/agent.yaml", "/var/lib/stackagent/journal.jsonl"} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("dpkg -r removed %s", kept)
		}
	}
	if st := strings.TrimSpace(run(t, "dpkg-query", "-W", "-f=${db:Status-Abbrev}", "stackagent")); st != "rc" {
		t.Errorf("after dpkg -r: status %q, want rc (config files kept)", st)
	}

	// Purge: nothing left.
	run(t, "dpkg", "--purge", "stackagent")
	for _, gone := range []string{"/etc/stackagent", "/var/lib/stackagent", "/usr/lib/stackagent", "/usr/bin/stackagent",
		"/usr/lib/systemd/system/stackagent.service", wantsLink, "/var/lib/dpkg/info/stackagent.list", "/var/lib/dpkg/info/stackagent.conffiles"} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is still there after dpkg --purge", gone)
		}
	}
	if st, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "stackagent").Output(); strings.TrimSpace(string(st)) != "" && !strings.HasPrefix(string(st), "un") {
		t.Errorf("after purge dpkg still knows stackagent: %q", st)
	}
}

const wantsLink = "/etc/systemd/system/multi-user.target.wants/stackagent.service"

// checkInstalled checks the installed files, their modes, the conffile
// mark, the enabled unit, the version the binary prints, and that nothing
// was started.
func checkInstalled(t *testing.T, version string) {
	t.Helper()
	for path, mode := range map[string]os.FileMode{
		"/usr/bin/stackagent":                        0o755,
		"/usr/lib/systemd/system/stackagent.service": 0o644,
		"/etc/stackagent/agent.yaml":                 0o640, // may hold key text (custom_cookbooks.ssh_key)
		"/etc/stackagent":                            os.ModeDir | 0o755,
		"/etc/stackagent/cookbooks":                  os.ModeDir | 0o755,
		"/etc/stackagent/attributes.d":               os.ModeDir | 0o755,
		"/etc/stackagent/roles":                      os.ModeDir | 0o755,
		"/etc/stackagent/data_bags":                  os.ModeDir | 0o750,
		"/var/lib/stackagent":                        os.ModeDir | 0o750,
		"/usr/lib/stackagent/plugins":                os.ModeDir | 0o755,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %s, want %s", path, fi.Mode(), mode)
		}
	}
	if got := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "stackagent"); !strings.Contains(got, "/etc/stackagent/agent.yaml ") {
		t.Errorf("agent.yaml is not a conffile: %q", got)
	}
	if got := run(t, "/usr/bin/stackagent", "version"); !strings.HasPrefix(got, "stackagent "+version+" ") {
		t.Errorf("stackagent version: %q, want %s", got, version)
	}
	if target, err := os.Readlink(wantsLink); err != nil || !strings.HasSuffix(target, "/systemd/system/stackagent.service") {
		t.Errorf("the unit is not enabled: %s -> %q (%v)", wantsLink, target, err)
	}
	if out, _ := exec.Command("pgrep", "-f", "^/usr/bin/stackagent ").Output(); len(out) > 0 {
		t.Errorf("installing started stackagent (pid %s); it must only be enabled", out)
	}
}

// agentDirs are the folders the package owns and the agent writes.
var agentDirs = []string{"/etc/stackagent", "/var/lib/stackagent", "/usr/lib/stackagent"}

// setAside renames each agent folder already on the machine (make run's
// state, a benchmark's lock) to a sibling, so the install starts clean
// and the purge cannot touch it, and renames it back when t ends (after
// the purge, which cleans up registered later run first).
func setAside(t *testing.T) {
	t.Helper()
	for _, dir := range agentDirs {
		saved := dir + ".saved-by-package-test"
		if _, err := os.Lstat(saved); err == nil {
			t.Fatalf("%s exists: an earlier run of this test was killed; move it back to %s by hand", saved, dir)
		}
		if _, err := os.Lstat(dir); err != nil {
			continue
		}
		if err := os.Rename(dir, saved); err != nil {
			t.Fatalf("set %s aside: %v", dir, err)
		}
		t.Logf("%s was on this machine: set aside until the test ends", dir)
		t.Cleanup(func() {
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("clean-up: %v", err)
			}
			if err := os.Rename(saved, dir); err != nil {
				t.Errorf("putting back %s: %v", dir, err)
			}
		})
	}
}
