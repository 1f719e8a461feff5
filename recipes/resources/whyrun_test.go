package resources

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
)

// whyRunCase is one kind's why-run: a recipe that would change the tree
// (or the host), the cookbook files it needs, and whether it runs against
// a recording runner because it would otherwise reach the host.
type whyRunCase struct {
	recipe string
	files  []string // cookbook path, content, …
	record bool
	// stdout and exits answer the recording runner's queries, by command line.
	stdout map[string]string
	exits  map[string]int
	// automatic attributes, e.g. another platform_family.
	automatic map[string]any
	// unchanged: the kind has nothing to change (log only writes output).
	unchanged bool
}

// whyRunCases returns a case per registered kind; root is the run's root,
// already holding etc/ and srv/.
func whyRunCases(t *testing.T, root string) map[string]whyRunCase {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "payload") }))
	t.Cleanup(srv.Close)
	src := filepath.Join(root, "src")
	gitT(t, "/", "init", "-q", src)
	os.WriteFile(filepath.Join(src, "index.php"), []byte("v1\n"), 0o644)
	gitT(t, src, "add", ".")
	gitT(t, src, "commit", "-q", "-m", "one")
	os.MkdirAll(filepath.Join(root, "var/spool/cron/crontabs"), 0o755)
	return map[string]whyRunCase{
		"log":           {recipe: `log "hello"`, unchanged: true},
		"lua_block":     {recipe: `lua_block "b" { block = function() error("ran in why-run") end }`},
		"file":          {recipe: `file "/etc/app.conf" { content = "x" }`},
		"directory":     {recipe: `directory "/srv/d/e" { recursive = true }`},
		"link":          {recipe: `link "/srv/l" { to = "/etc/app.conf" }`},
		"template":      {recipe: `template "/etc/t.conf" { source = "t.erb" }`, files: []string{"test/templates/t.erb", "v <%= 1 %>\n"}},
		"cookbook_file": {recipe: `cookbook_file "/etc/c.conf" { source = "c" }`, files: []string{"test/files/c", "c\n"}},
		"remote_file":   {recipe: fmt.Sprintf(`remote_file "/srv/r" { source = "%s/r" }`, srv.URL)},
		"git":           {recipe: fmt.Sprintf(`git "/srv/app" { repository = %q, revision = "main" }`, src)},
		"deploy":        {recipe: deployRecipe(localApp(t, root, "v1"))},
		"cron":          {recipe: `cron "job" { minute = "5", command = "true" }`},
		"cron_d":        {recipe: `cron_d "job" { minute = "5", command = "true" }`},
		"apt_update":    {recipe: `apt_update "lists" { frequency = 3600 }`, record: true},
		"package": {recipe: `package "stackagent-nosuch"`, record: true,
			stdout: map[string]string{"apt-cache policy stackagent-nosuch": "stackagent-nosuch:\n  Installed: (none)\n  Candidate: 1.0-1\n"}},
		"apt_package": {recipe: `apt_package "stackagent-nosuch"`, record: true, automatic: map[string]any{"platform_family": "debian"},
			stdout: map[string]string{"apt-cache policy stackagent-nosuch": "stackagent-nosuch:\n  Installed: (none)\n  Candidate: 1.0-1\n"}},
		"dnf_package": {recipe: `dnf_package "stackagent-nosuch"`, record: true, automatic: map[string]any{"platform_family": "rhel"},
			stdout: rpmNotInstalled(), exits: map[string]int{"rpm -q --queryformat %{VERSION}-%{RELEASE}\n stackagent-nosuch": 1}},
		"yum_package": {recipe: `yum_package "stackagent-nosuch"`, record: true, automatic: map[string]any{"platform_family": "amazon"},
			stdout: rpmNotInstalled(), exits: map[string]int{"rpm -q --queryformat %{VERSION}-%{RELEASE}\n stackagent-nosuch": 1}},
		"script":                {recipe: `script "s" { interpreter = "sh", code = "touch /tmp/stackagent-whyrun" }`, record: true},
		"python":                {recipe: `python "p" { code = "open('/tmp/stackagent-whyrun', 'w')" }`, record: true},
		"perl":                  {recipe: `perl "p" { code = "open(F, '>/tmp/stackagent-whyrun')" }`, record: true},
		"notify_group":          {recipe: `notify_group "g" { action = "run" }`},
		"remote_directory":      {recipe: `remote_directory "/srv/tree" { source = "tree" }`, files: []string{"test/files/tree/a", "a\n"}},
		"sudo":                  {recipe: `sudo "deploy" { users = "deploy" }`, record: true},
		"hostname":              {recipe: `hostname "stackagent-whyrun.example.com" { ipaddress = "10.9.9.9" }`, record: true},
		"apt_repository":        {recipe: `apt_repository "sa" { uri = "https://example.com/debian", distribution = "bookworm", components = {"main"} }`, record: true},
		"ssh_known_hosts_entry": {recipe: `ssh_known_hosts_entry "github.com" { key_type = "ed25519", key = "AAAAC3Nz" }`},
		"http_request":          {recipe: fmt.Sprintf(`http_request "%s/hook" { action = "post" }`, srv.URL)},
		"yum_repository":        {recipe: `yum_repository "sa" { baseurl = "https://example.com/el9" }`},
		"swap_file":             {recipe: `swap_file "/srv/swap.img" { size = 8 }`, record: true},
		"sysctl":                {recipe: `sysctl "kernel.printk_ratelimit_burst" { value = 123457 }`, record: true},
		"systemd_unit":          {recipe: `systemd_unit "sa-whyrun.service" { content = "[Service]\nExecStart=/bin/true\n", action = "create" }`, record: true},
		"service":               {recipe: `service "stackagent-nosuch" { action = "restart" }`, record: true},
		"execute":               {recipe: `execute "touch /tmp/stackagent-whyrun"`, record: true},
		"bash":                  {recipe: `bash "b" { code = "touch /tmp/stackagent-whyrun" }`, record: true},
		"user":                  {recipe: `user "stackagent-nosuch"`, record: true},
		"group":                 {recipe: `group "stackagent-nosuch"`, record: true},
		"mount":                 {recipe: `mount "/srv/m" { device = "tmpfs", fstype = "tmpfs", action = {"mount", "enable"} }`, record: true},
		"reboot":                {recipe: `reboot "now" { action = "reboot_now", reason = "kernel" }`, record: true},
	}
}

// readOnlyCommands are the queries a why-run may ask the host.
var readOnlyCommands = []string{"dpkg-query ", "getent ", "id ", "pgrep ", "systemctl is-", "findmnt ", "mountpoint ", "/etc/init.d/stackagent-nosuch status", "apt-cache ", "rpm -q", "dnf -q list ", "yum -q list "}

func readOnly(cmd string) bool {
	for _, p := range readOnlyCommands {
		if strings.HasPrefix(cmd, p) {
			return true
		}
	}
	return false
}

// TestWhyRunEveryKind converges every registered kind in why-run against a
// real temporary tree: the tree is byte for byte unchanged, the resource is
// reported as one that would be updated, and no command that changes the
// host ran.
func TestWhyRunEveryKind(t *testing.T) {
	t.Parallel()
	reg := recipes.NewRegistry()
	Register(reg)
	for _, kind := range reg.Names() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for _, d := range []string{"etc", "srv", "var/lib/apt/periodic"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			c, ok := whyRunCases(t, root)[kind]
			if !ok {
				t.Fatalf("kind %q has no why-run case in whyRunCases", kind)
			}
			files := map[string]string{"test/recipes/default.lua": c.recipe}
			for i := 0; i+1 < len(c.files); i += 2 {
				files[c.files[i]] = c.files[i+1]
			}
			o := recipestest.Opts{Root: root, WhyRun: true, Automatic: c.automatic}
			rr := &recordRunner{stdout: c.stdout, exits: c.exits}
			if c.record {
				o.Runner = rr
			}
			before := recipestest.TreeHash(t, root)
			res := recipestest.Converge(t, reg, files, o)
			if res.Err != nil {
				t.Fatalf("why-run: %v\n%s", res.Err, res.Output)
			}
			if after := recipestest.TreeHash(t, root); after != before {
				t.Fatalf("why-run changed the tree\n%s", res.Output)
			}
			if c.unchanged {
				if res.Report.UpdatedResources != 0 {
					t.Fatalf("why-run reported a change\n%s", res.Output)
				}
			} else if res.Report.UpdatedResources != 1 || !strings.Contains(res.Output, "Would") {
				t.Fatalf("why-run reported %d updated resources, want 1 with a Would line\n%s", res.Report.UpdatedResources, res.Output)
			}
			for _, cmd := range rr.recorded() {
				if !readOnly(cmd) {
					t.Fatalf("why-run ran %q, which changes the host (all: %q)", cmd, rr.recorded())
				}
			}
		})
	}
}

// rpmNotInstalled answers dnf's (or yum's) list of a package it offers.
func rpmNotInstalled() map[string]string {
	list := "stackagent-nosuch.x86_64  1.0-1.el9  baseos\n"
	return map[string]string{"dnf -q list --available --showduplicates stackagent-nosuch": list,
		"yum -q list --available --showduplicates stackagent-nosuch": list}
}
