package resources_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/recipes"
	"github.com/stackagent/stackagent/recipes/recipestest"
	"github.com/stackagent/stackagent/recipes/resources"
)

// benchEach is how many resources of each file-system kind the benchmark
// recipe declares: file, template, directory and link, 4×125 = 500.
const benchEach = 125

// benchCookbook writes cookbook "bench" to a temporary directory: one
// recipe of benchEach resources of each kind, spelt out one per line as a
// hand-written recipe would be, and one template with three variables.
func benchCookbook(b *testing.B) *recipes.CookbookSet {
	b.Helper()
	dir := b.TempDir()
	var rb strings.Builder
	for i := range benchEach {
		d := fmt.Sprintf("/srv/app/d%03d", i)
		fmt.Fprintf(&rb, "directory %q { mode = \"0755\", recursive = true }\n", d)
		fmt.Fprintf(&rb, "file %q { content = \"file %d\\n\", mode = \"0644\" }\n", d+"/static.txt", i)
		fmt.Fprintf(&rb, "template %q { source = \"app.conf.erb\", mode = \"0640\", variables = { name = \"app%d\", port = %d, debug = %t } }\n",
			d+"/app.conf", i, 8000+i, i%2 == 0)
		fmt.Fprintf(&rb, "link %q { to = %q }\n", d+"/current.conf", d+"/app.conf")
	}
	files := map[string]string{
		"bench/metadata.json":          `{"name": "bench", "version": "1.0.0"}`,
		"bench/recipes/default.lua":    rb.String(),
		"bench/templates/app.conf.erb": "# <%= name %>\nlisten <%= port %>\n<% if debug then -%>\nlog_level debug\n<% end -%>\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	set, errs := recipes.LoadCookbooks(recipes.CookbookSource{FS: os.DirFS(dir), Origin: dir})
	if len(errs) > 0 {
		b.Fatalf("load cookbooks: %v", errs)
	}
	return set
}

// benchOptions are the options of one run, as run-recipe sets them up: a
// fresh node each run, the doc formatter writing to nowhere.
func benchOptions(b *testing.B, reg *recipes.Registry, set *recipes.CookbookSet, root string) recipes.Options {
	items, err := recipes.ParseRunList("bench")
	if err != nil {
		b.Fatal(err)
	}
	return recipes.Options{
		Registry: reg, Cookbooks: set, Node: recipestest.Node(), RunList: items,
		Root: root, Events: recipes.NewDocFormatter(io.Discard),
	}
}

// BenchmarkNoopConverge500 measures what a no-op run of a 500-resource
// recipe costs: compile (Lua, templates checked) and converge (every
// resource inspected, nothing changed). The first converge, outside the
// timing, creates everything; any later run that updates a resource fails
// the benchmark.
func BenchmarkNoopConverge500(b *testing.B) {
	reg := recipes.NewRegistry()
	resources.Register(reg)
	set := benchCookbook(b)
	root := b.TempDir()
	ctx := context.Background()

	rep, err := recipes.Run(ctx, benchOptions(b, reg, set, root))
	if err != nil {
		b.Fatalf("first converge: %v", err)
	}
	const total = 4 * benchEach
	if rep.TotalResources != total || rep.UpdatedResources != total {
		b.Fatalf("first converge: %d/%d resources updated, want %d/%d", rep.UpdatedResources, rep.TotalResources, total, total)
	}

	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := recipes.Compile(ctx, benchOptions(b, reg, set, root)); err != nil {
				b.Fatal(err)
			}
		}
		perResource(b, total)
	})
	b.Run("run", func(b *testing.B) {
		for b.Loop() {
			rep, err := recipes.Run(ctx, benchOptions(b, reg, set, root))
			if err != nil {
				b.Fatal(err)
			}
			if rep.UpdatedResources != 0 {
				b.Fatalf("no-op run: %d/%d resources updated", rep.UpdatedResources, rep.TotalResources)
			}
		}
		perResource(b, total)
	})
}

func perResource(b *testing.B, n int) {
	if b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/resource")
	}
}
