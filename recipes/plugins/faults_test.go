package plugins

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/checksum"
	"github.com/stackagent/stackagent/recipes"
)

// faultRecipe: the faulty resource ignores its failure, so the run goes on.
func faultRecipe(mode, marker string) string {
	return `fault "bad" { mode = "` + mode + `", marker = "` + marker + `", ignore_failure = true }
fault "good" {}
log "after"
`
}

// wantFailedAndGoesOn checks fault[bad] failed with a message containing
// each of want, and that the rest of the run converged.
func wantFailedAndGoesOn(t *testing.T, res result, want ...string) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("run failed: %v\n%s", res.err, res.out)
	}
	bad, _ := status(res.rep, "fault[bad]")
	if bad.Status != recipes.StatusFailed || !bad.IgnoredFailure {
		t.Fatalf("fault[bad]: %+v\n%s", bad, res.out)
	}
	for _, w := range want {
		if !strings.Contains(bad.Error, w) {
			t.Errorf("error %q lacks %q", bad.Error, w)
		}
	}
	for _, id := range []string{"fault[good]", "log[after]"} {
		if rr, ok := status(res.rep, id); !ok || rr.Status == recipes.StatusFailed {
			t.Errorf("%s: %+v", id, rr)
		}
	}
}

func TestFaultHangPastTimeout(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	reg, _, _ := setup(t, dir, Options{CallTimeout: 500 * time.Millisecond})
	res := converge(t.Context(), t, reg, t.TempDir(), faultRecipe("hang_load", ""), false)
	wantFailedAndGoesOn(t, res, "plugin fault (", "no answer to load within 500ms; the plugin was stopped")
}

func TestFaultCrashInApply(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	reg, _, _ := setup(t, dir, Options{})
	res := converge(t.Context(), t, reg, t.TempDir(), faultRecipe("die_in_apply", ""), false)
	wantFailedAndGoesOn(t, res, "plugin fault (", "plugin crashed during apply", "dying on purpose")
}

func TestFaultKilledMidApply(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	reg, _, _ := setup(t, dir, Options{})
	marker := filepath.Join(t.TempDir(), "pid")
	go func() { // kill the plugin as soon as it is inside Apply
		for range 500 {
			if b, err := os.ReadFile(marker); err == nil && len(b) > 0 {
				pid, _ := strconv.Atoi(string(b))
				syscall.Kill(pid, syscall.SIGKILL)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	res := converge(t.Context(), t, reg, t.TempDir(), faultRecipe("block_apply", marker), false)
	wantFailedAndGoesOn(t, res, "plugin fault (", "plugin crashed during apply")
}

func TestFaultBadHandshake(t *testing.T) {
	t.Parallel()
	dir, path := pluginDir(t, faultPkg, "fault")
	cache := t.TempDir()
	setup(t, dir, Options{CacheDir: cache}) // a good run caches the schema
	if err := os.WriteFile(path+".protocol", []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, host, _ := setup(t, dir, Options{CacheDir: cache})
	if len(host.Running()) != 0 {
		t.Fatal("the cached schema did not spare the start")
	}
	res := converge(t.Context(), t, reg, t.TempDir(), `fault "bad" { ignore_failure = true }
log "after"
`, false)
	if res.err != nil {
		t.Fatalf("run: %v\n%s", res.err, res.out)
	}
	bad, _ := status(res.rep, "fault[bad]")
	if bad.Status != recipes.StatusFailed || !strings.Contains(bad.Error, "plugin fault (") ||
		!strings.Contains(bad.Error, "Plugin version: 2") {
		t.Fatalf("fault[bad]: %+v", bad)
	}

	// Without a cached schema the plugin's kinds cannot be declared:
	// Register says which plugin and why, and registers the others.
	found, _ := Discover([]string{dir}, nil)
	h := NewHost(found, Options{})
	defer h.Close()
	err := Register(recipes.NewRegistry(), h)
	var pe *Error
	if !errors.As(err, &pe) || pe.Plugin != "fault" || !errors.Is(err, ErrStart) || !strings.Contains(err.Error(), "Plugin version: 2") {
		t.Fatalf("register: %v", err)
	}
}

func TestChecksums(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	found, err := Discover([]string{dir, "/nonexistent"}, nil)
	if err != nil || len(found) != 1 || found[0].Name != "fault" || len(found[0].SHA256) != 64 {
		t.Fatalf("discover: %+v %v", found, err)
	}
	good := found[0].SHA256
	if ok, err := Discover([]string{dir}, map[string]string{"fault": "sha256:" + strings.ToUpper(good)}); err != nil || !ok[0].Verified || ok[0].Err != nil {
		t.Fatalf("good checksum: %+v %v", ok, err)
	}
	_, err = Discover([]string{dir}, map[string]string{"fault": good, "gone": good})
	if err == nil || !strings.Contains(err.Error(), "plugin gone") {
		t.Fatalf("missing plugin: %v", err)
	}

	// A bad checksum: with the schema cached, the kinds are declared and
	// each resource fails with the checksum error; the run goes on.
	cache := t.TempDir()
	setup(t, dir, Options{CacheDir: cache})
	bad, _ := Discover([]string{dir}, map[string]string{"fault": strings.Repeat("0", 64)})
	if !errors.Is(bad[0].Err, checksum.ErrMismatch) {
		t.Fatalf("bad checksum: %+v", bad[0])
	}
	host := NewHost(bad, Options{CacheDir: cache})
	defer host.Close()
	reg := recipes.NewRegistry()
	if err := Register(reg, host); err != nil {
		t.Fatal(err)
	}
	res := converge(t.Context(), t, reg, t.TempDir(), `fault "bad" { ignore_failure = true }`, false)
	rr, _ := status(res.rep, "fault[bad]")
	if res.err != nil || rr.Status != recipes.StatusFailed || !strings.Contains(rr.Error, "plugin fault (") || !strings.Contains(rr.Error, "checksum mismatch") {
		t.Fatalf("%v %+v", res.err, rr)
	}
	if len(host.Running()) != 0 {
		t.Fatal("a plugin that failed its checksum was started")
	}
}

func TestCancelReachesPluginMidApply(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	reg, _, _ := setup(t, dir, Options{})
	marker := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for range 500 {
			if _, err := os.Stat(marker); err == nil {
				cancel() // as SIGTERM does in the agent
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	res := converge(ctx, t, reg, t.TempDir(), `fault "bad" { mode = "block_apply", marker = "`+marker+`" }`, false)
	if !errors.Is(res.err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %s", res.err, time.Since(start))
	}
	rr, _ := status(res.rep, "fault[bad]")
	if !strings.Contains(rr.Error, "apply stopped: context canceled") {
		t.Fatalf("%+v", rr)
	}
}

func TestPluginLogsReachAgentLogger(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, faultPkg, "fault")
	reg, _, logs := setup(t, dir, Options{})
	converge(t.Context(), t, reg, t.TempDir(), `fault "x" { count = 7 }`, false)
	host := logs.String()
	if !strings.Contains(host, `level=WARN msg=loading plugin=fault`) || !strings.Contains(host, "count=7") ||
		!strings.Contains(host, "resource=fault[x]") {
		t.Fatalf("logs:\n%s", host)
	}
}
