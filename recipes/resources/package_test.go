package resources

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"

	"github.com/stackagent/stackagent/testenv"
)

const policyOut = `hello:
  Installed: 2.10-2
  Candidate: 2.10-3
  Version table:
     2.10-3 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
 *** 2.10-2 100
        100 /var/lib/dpkg/status
php:
  Installed: (none)
  Candidate: 2:8.2+93
  Version table:
     2:8.2+93 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
virtual:
  Installed: (none)
  Candidate: (none)
  Version table:
`

func TestParseAptPolicy(t *testing.T) {
	t.Parallel()
	got := parseAptPolicy(policyOut)
	want := map[string]aptPolicy{
		"hello":   {Installed: "2.10-2", Candidate: "2.10-3", Available: []string{"2.10-3", "2.10-2"}},
		"php":     {Candidate: "2:8.2+93", Available: []string{"2:8.2+93"}},
		"virtual": {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseDpkgQuery(t *testing.T) {
	t.Parallel()
	got := parseDpkgQuery("hello\tinstall ok installed\t2.10-2\ncron\tdeinstall ok config-files\t3.0pl1-162\nfoo\tunknown ok not-installed\t\n")
	want := map[string]pkgState{"hello": {Installed: "2.10-2"}, "cron": {ConfigLeft: true}, "foo": {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestPkgChanges(t *testing.T) {
	t.Parallel()
	hello := pkgState{Name: "hello", Installed: "2.10-2", Candidate: "2.10-3", Available: []string{"2.10-3", "2.10-2"}}
	php := pkgState{Name: "php", Candidate: "2:8.2+93", Available: []string{"2:8.2+93"}}
	gone := pkgState{Name: "cron", ConfigLeft: true}
	cases := []struct {
		action   string
		states   []pkgState
		versions []string
		desc     string
		specs    []string
		err      string
	}{
		{"install", []pkgState{hello, php}, nil, "install version 2:8.2+93 of package php", []string{"php"}, ""},
		{"install", []pkgState{hello}, []string{"2.10-3"}, "install version 2.10-3 of package hello", []string{"hello=2.10-3"}, ""},
		{"install", []pkgState{hello}, []string{"2.10-2"}, "", nil, ""},
		{"install", []pkgState{hello}, []string{"9.9"}, "", nil, "version 9.9 of package hello is not available"},
		{"install", []pkgState{{Name: "virtual"}}, nil, "", nil, "no candidate version available for virtual"},
		{"upgrade", []pkgState{hello, php}, nil, "upgrade package hello, php to version 2.10-3, 2:8.2+93", []string{"hello=2.10-3", "php=2:8.2+93"}, ""},
		{"remove", []pkgState{hello, php, gone}, nil, "remove package hello", []string{"hello"}, ""},
		{"purge", []pkgState{hello, php, gone}, nil, "purge package hello, cron", []string{"hello", "cron"}, ""},
	}
	for _, c := range cases {
		desc, specs, err := pkgChanges(c.action, c.states, c.versions, aptManager{})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %v: err %v, want %q", c.action, c.versions, err, c.err)
			}
			continue
		}
		if err != nil || desc != c.desc || !reflect.DeepEqual(specs, c.specs) {
			t.Errorf("%s %v: got %q %v %v, want %q %v", c.action, c.versions, desc, specs, err, c.desc, c.specs)
		}
	}
}

func TestAptCommand(t *testing.T) {
	t.Parallel()
	c := aptManager{}.command("install", []string{"apache2", "php=2:8.2+93"}, []string{"--no-install-recommends"})
	want := "apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends --allow-downgrades install apache2 php=2:8.2+93"
	if c.String() != want || !reflect.DeepEqual(c.Env, []string{"DEBIAN_FRONTEND=noninteractive"}) {
		t.Fatalf("got %s %v", c, c.Env)
	}
	if c := (dnfManager{}).command("purge", []string{"httpd"}, nil); c.String() != "dnf -y -q remove httpd" {
		t.Fatalf("dnf: %s", c)
	}
}

func TestParseDNFList(t *testing.T) {
	t.Parallel()
	out := "Available Packages\nhttpd.x86_64    2.4.57-5.el9    appstream\nhttpd.x86_64  1:2.4.58-1.el9  appstream\nhttpd-tools.x86_64 2.4.57-5.el9 appstream\n"
	if got := parseDNFList(out, "httpd"); !reflect.DeepEqual(got, []string{"2.4.57-5.el9", "2.4.58-1.el9"}) {
		t.Fatalf("got %v", got)
	}
}

// TestPackageHello installs, pins and removes Debian's hello through apt,
// and leaves it as it was.
func TestPackageHello(t *testing.T) {
	needRoot(t, "installs the hello package with apt-get")
	testenv.Command(t, "apt-get", "a Debian-family host")
	was := dpkgVersion("hello")
	t.Cleanup(func() {
		if was == "" {
			exec.Command("apt-get", "-y", "-q", "-o", aptLockWait, "purge", "hello").Run()
		} else {
			exec.Command("apt-get", "-y", "-q", "-o", aptLockWait, "install", "hello="+was).Run()
		}
	})
	exec.Command("apt-get", "-y", "-q", "-o", aptLockWait, "purge", "hello").Run()
	o := recipestest.Opts{}
	res := sysConverge(t, o, `package "hello"`, 1)
	ver := dpkgVersion("hello")
	if ver == "" || !strings.Contains(res.Output, "install version "+ver+" of package hello") {
		t.Fatalf("hello not installed (version %q)\n%s", ver, res.Output)
	}
	sysConverge(t, o, `package "hello"`, 0)
	pinned := `package {"hello"} { version = {"` + ver + `"}, action = "upgrade" }`
	sysConverge(t, o, pinned, 0)
	res = sysConvergeErr(t, o, `package "hello" { version = "0.0-nope" }`)
	if !strings.Contains(res.Report.Error, "version 0.0-nope of package hello is not available") {
		t.Fatalf("error: %s", res.Report.Error)
	}
	sysConverge(t, o, `package "hello" { action = "remove" }`, 1)
	if v := dpkgVersion("hello"); v != "" {
		t.Fatalf("hello still installed: %s", v)
	}
	sysConverge(t, o, `package "hello" { action = "remove" }`, 0)
	sysConverge(t, o, `package "hello" { version = "`+ver+`" }`, 1)
	if v := dpkgVersion("hello"); v != ver {
		t.Fatalf("pinned install gave %q, want %q", v, ver)
	}
}

// dpkgVersion is the installed version of a package, "" when none.
func dpkgVersion(name string) string {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}\t${Version}", name).Output()
	st, v, _ := strings.Cut(string(out), "\t")
	if !strings.HasSuffix(st, " installed") {
		return ""
	}
	return v
}

// TestPackageRefusesOptionNames: a package name or version from the stack
// JSON that apt-get or dpkg would read as an option ("-o APT::…") is
// refused before any command runs, with the property named.
func TestPackageRefusesOptionNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ recipe, want string }{
		{`package "-oAPT::Update::Pre-Invoke::=touch /tmp/x"`, "package_name[1]"},
		{`package {"hello", "--allow-unauthenticated"}`, "package_name[2]"},
		{`package "hello" { version = "-1; id" }`, "version[1]"},
		{`package "a b"`, "package_name[1]"},
	} {
		run := &recordRunner{}
		res := sysConvergeErr(t, recipestest.Opts{Root: t.TempDir(), Runner: run}, tc.recipe)
		if !strings.Contains(res.Report.Error, tc.want) {
			t.Errorf("%s: error %q does not name %s", tc.recipe, res.Report.Error, tc.want)
		}
		if len(run.cmds) != 0 {
			t.Errorf("%s: ran %v", tc.recipe, run.cmds)
		}
	}
	if err := checkPackageNames([]string{"php8.2-fpm", "libc6:amd64", "g++"}, []string{"2:8.2+93", "1.0~rc1-1"}); err != nil {
		t.Errorf("real names refused: %v", err)
	}
}
