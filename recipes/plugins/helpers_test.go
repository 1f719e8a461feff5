package plugins

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/testutil"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
	"github.com/stackagent/stackagent/recipes/resources"
)

var binDir string // the plugins built once for the package's tests

func TestMain(m *testing.M) {
	var err error
	binDir, err = os.MkdirTemp("", "stackagent-plugins-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	sqstest.StopShared()
	os.RemoveAll(binDir)
	os.Exit(code)
}

var builds sync.Map // package → *buildOnce

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

// pluginBinary builds the plugin main package pkg (once) and copies it,
// under name, into a fresh plugin dir of the test's.
func pluginDir(t testing.TB, pkg, name string) (dir, path string) {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		b.path = filepath.Join(binDir, filepath.Base(pkg))
		out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	dir = t.TempDir()
	path = filepath.Join(dir, name)
	data, err := os.ReadFile(b.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

const (
	s3filePkg = "github.com/stackagent/stackagent/plugins/s3file"
	faultPkg  = "github.com/stackagent/stackagent/recipes/plugins/testdata/fault"
)

// setup discovers the plugins in dir, starts a host (closed at cleanup)
// and returns a registry with the built-ins and the plugin kinds.
func setup(t testing.TB, dir string, opts Options) (*recipes.Registry, *Host, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	found, err := Discover([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	host := NewHost(found, opts)
	t.Cleanup(func() { host.Close() })
	reg := recipes.NewRegistry()
	resources.Register(reg)
	if err := Register(reg, host); err != nil {
		t.Fatal(err)
	}
	return reg, host, logs
}

type result struct {
	rep *recipes.Report
	err error
	out string
}

// converge runs the "test" cookbook's default recipe under ctx.
func converge(ctx context.Context, t testing.TB, reg *recipes.Registry, root, recipe string, whyRun bool) result {
	t.Helper()
	set := recipestest.Cookbooks(t, map[string]string{"test/recipes/default.lua": recipe})
	items, err := recipes.ParseRunList("test")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := recipes.Run(ctx, recipes.Options{Registry: reg, Cookbooks: set, Node: recipestest.Node(),
		RunList: items, WhyRun: whyRun, Root: root, Events: recipes.NewDocFormatter(&out),
		ResourceTimeout: time.Minute})
	return result{rep: rep, err: err, out: out.String()}
}

// status returns the report's status of resource id.
func status(rep *recipes.Report, id string) (recipes.ResourceReport, bool) {
	for _, rr := range rep.Resources {
		if rr.ID == id {
			return rr, true
		}
	}
	return recipes.ResourceReport{}, false
}
