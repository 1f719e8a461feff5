package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// heavy names the packages that must not be initialised or imported
// where they are not needed (issue 14): AWS service clients, grpc,
// prometheus, and the SDK's schema tables. Every match must be in
// linkedFor, which says why the binary carries it.
var heavy = []string{
	"github.com/aws/aws-sdk-go-v2/service/",
	"google.golang.org/grpc",
	"github.com/prometheus/",
}

// linkedFor: the heavy packages the one binary carries, each with the
// reason. A package here still initialises before main in every command
// (Go runs every linked package's init), so each costs start-up; add one
// only with its reason and its cost measured (bench/startup.sh).
var linkedFor = map[string]string{
	"service/sqs":            "the daemon's event source and `event send/wait`",
	"service/sns":            "replies to an SNS topic (lifecycle/reply.go), `event send --topic`",
	"service/autoscaling":    "CompleteLifecycleAction for Auto Scaling hooks (daemon, heal)",
	"service/s3":             "custom cookbooks, the deploy resource's s3 source, upgrade",
	"service/ssm":            "secrets from SSM Parameter Store (internal/secrets)",
	"service/secretsmanager": "secrets from Secrets Manager (internal/secrets)",
	"service/sts":            "the SDK's credential chain (config: assume-role, web identity)",
	"service/sso":            "the SDK's credential chain (config: SSO profiles)",
	"service/ssooidc":        "the SDK's credential chain (config: SSO token refresh)",
	"service/signin":         "the SDK's credential chain (config: console login credentials)",
	"service/internal":       "shared by the S3 client (checksums, presigned URLs, accept-encoding)",
	"grpc":                   "resource-provider plugins over hashicorp/go-plugin (recipes/plugins)",
	"prometheus":             "the daemon's /metrics (internal/telemetry)",
}

// never: packages no command may initialise. The SDK's generated schema
// tables (service/*/schemas, from the releases that switched a service to
// schema-based serialisation) cost ~15 ms and 2.5 MB of allocation before
// main for the six services linked here: go.mod holds each service at its
// last release without them (docs/benchmarks.md, "Start-up").
var never = []string{"/schemas"}

// heavyGroup returns the linkedFor key of a heavy package, or "".
func heavyGroup(pkg string) string {
	if rest, ok := strings.CutPrefix(pkg, heavy[0]); ok {
		svc, _, _ := strings.Cut(rest, "/")
		if svc == "internal" {
			return "service/internal"
		}
		return "service/" + svc
	}
	if strings.HasPrefix(pkg, heavy[1]) {
		return "grpc"
	}
	if strings.HasPrefix(pkg, heavy[2]) {
		return "prometheus"
	}
	return ""
}

// TestConvergePathImportsNoHeavyPackage: the Lua engine, ohai and the
// converge's own packages import no AWS service client, grpc or
// prometheus (go list -deps). recipes/resources and recipes/plugins are
// listed with what they still pull in and why.
func TestConvergePathImportsNoHeavyPackage(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{
		"recipes":      nil,
		"recipes/ohai": nil,
		// deploy_source.go builds the S3 client of the deploy resource's
		// s3 source (and the SDK config's credential chain with it).
		"recipes/resources": {"service/s3", "service/internal", "service/sts", "service/sso", "service/ssooidc", "service/signin"},
		// plugins are go-plugin over grpc.
		"recipes/plugins": {"grpc"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "github.com/stackagent/stackagent/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if g := heavyGroup(dep); g != "" && !slices.Contains(ok, g) {
				t.Errorf("%s imports %s (%s): the converge path must not; inject it from agent/ or list it here with why", pkg, dep, g)
			}
		}
	}
}

// TestStartupInitsOnlyListedHeavyPackages builds the binary and reads the
// Go runtime's init trace of `stackagent version`: every package
// initialised before main. It fails naming a heavy package that is not
// in linkedFor, any package in never, and any of our own packages that
// allocates more than 64 KiB at init (a table or regexp built eagerly:
// use internal/lazyre or sync.OnceValue). No clock is asserted.
func TestStartupInitsOnlyListedHeavyPackages(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the agent")
	}
	bin := filepath.Join(t.TempDir(), "stackagent")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(cmd.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// init PKG @T ms, C ms clock, B bytes, A allocs
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		n++
		pkg := f[1]
		for _, s := range never {
			if strings.Contains(pkg, s) && heavyGroup(pkg) != "" {
				t.Errorf("%s is initialised before main: the SDK schema tables are kept out (see never)", pkg)
			}
		}
		if g := heavyGroup(pkg); g != "" && linkedFor[g] == "" {
			t.Errorf("%s (%s) is initialised before main and not in linkedFor: say why the binary needs it, or keep it out", pkg, g)
		}
		if strings.HasPrefix(pkg, "github.com/stackagent/") {
			if b, _ := strconv.Atoi(f[7]); b > 64<<10 {
				t.Errorf("%s allocates %d bytes at init: build its tables on first use", pkg, b)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no init trace in the output of version:\n%s", out)
	}
}
