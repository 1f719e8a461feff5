package plugins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkUpToDateResource compares, in one run, the cost per resource of
// an up-to-date plugin resource (Load+Test over gRPC to a started plugin)
// with an up-to-date built-in file resource. Target: ≤ 1 ms per plugin
// resource. make: go test -run '^$' -bench UpToDate ./recipes/plugins/
func BenchmarkUpToDateResource(b *testing.B) {
	const n = 100
	dir, _ := pluginDir(b, faultPkg, "fault")
	reg, _, _ := setup(b, dir, Options{})
	root := b.TempDir()
	var plugin, builtin strings.Builder
	for i := range n {
		fmt.Fprintf(&plugin, "fault \"r%d\" { mode = \"noop\" }\n", i)
		p := fmt.Sprintf("/etc/f%d", i)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&builtin, "file %q { content = \"x\", mode = \"0644\" }\n", p)
	}
	for _, bc := range []struct{ name, recipe string }{{"builtin_file", builtin.String()}, {"plugin", plugin.String()}} {
		b.Run(bc.name, func(b *testing.B) {
			converge(b.Context(), b, reg, root, bc.recipe, false) // warm: the plugin is started
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				res := converge(b.Context(), b, reg, root, bc.recipe, false)
				total += time.Since(start)
				if res.err != nil || res.rep.UpdatedResources != 0 {
					b.Fatalf("%v updated=%d\n%s", res.err, res.rep.UpdatedResources, res.out)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N*n), "µs/resource")
		})
	}
}
