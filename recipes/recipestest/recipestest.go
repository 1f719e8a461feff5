// Package recipestest converges recipes in tests: cookbooks given as a map
// of files, a fresh node with the host's platform facts, output captured.
package recipestest

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/ohai"
)

// Opts configure one converge.
type Opts struct {
	// Root is passed as recipes.Options.Root (usually t.TempDir()).
	Root string
	// RunList defaults to the "test" cookbook's default recipe.
	RunList []string
	WhyRun  bool
	// Normal attributes (as -j gives them).
	Normal map[string]any
	// Automatic attributes over the host's facts (platform_family = "rhel"
	// to plan as on another platform).
	Automatic map[string]any
	// HTTP, when set, is the run's HTTP client (a TLS test server's).
	HTTP *http.Client
	// Runner, when set, replaces the real command runner.
	Runner recipes.Runner
	// Secrets resolves {"secret": REF} attributes.
	Secrets recipes.SecretResolver
	// StagingParent is passed as recipes.Options.StagingParent.
	StagingParent string
}

// Result is what a converge left.
type Result struct {
	Report *recipes.Report
	Err    error
	Output string
}

// Cookbooks builds a cookbook set from files such as
// "test/recipes/default.lua"; the directory origin shown in messages is
// "/cookbooks".
func Cookbooks(t testing.TB, files map[string]string) *recipes.CookbookSet {
	t.Helper()
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	set, errs := recipes.LoadCookbooks(recipes.CookbookSource{FS: m, Origin: "/cookbooks"})
	if len(errs) > 0 {
		t.Fatalf("load cookbooks: %v", errs)
	}
	return set
}

// Node returns a node with this host's platform facts at automatic level.
func Node() *recipes.Node {
	n := recipes.NewNode("test")
	p, fam, ver := ohai.Platform("/etc/os-release")
	n.Merge(recipes.Automatic, map[string]any{"platform": p, "platform_family": fam, "platform_version": ver})
	return n
}

// Converge compiles and converges the cookbooks with the registry.
func Converge(t testing.TB, reg *recipes.Registry, files map[string]string, o Opts) Result {
	t.Helper()
	set := Cookbooks(t, files)
	if o.RunList == nil {
		o.RunList = []string{"test"}
	}
	items, err := recipes.ParseRunList(o.RunList...)
	if err != nil {
		t.Fatal(err)
	}
	node := Node()
	if o.Normal != nil {
		node.Merge(recipes.Normal, o.Normal)
	}
	if o.Automatic != nil {
		node.Merge(recipes.Automatic, o.Automatic)
	}
	var out bytes.Buffer
	runner := o.Runner
	if runner == nil {
		runner = recipes.ExecRunner{}
	}
	rep, err := recipes.Run(context.Background(), recipes.Options{
		Registry: reg, Cookbooks: set, Node: node, RunList: items, WhyRun: o.WhyRun,
		Root: o.Root, Runner: runner, Events: recipes.NewDocFormatter(&out), Secrets: o.Secrets,
		StagingParent: o.StagingParent, HTTP: o.HTTP,
	})
	return Result{Report: rep, Err: err, Output: out.String()}
}
