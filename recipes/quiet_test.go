package recipes

import (
	"strings"
	"testing"
)

// TestIgnoreFailureQuiet: ignore_failure = "quiet" goes on past the
// failure as true does, keeps the error in the report, and prints no
// error block; any other string is a compile error.
func TestIgnoreFailureQuiet(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "broken" { action = "fail", ignore_failure = "quiet", secret = "marker-in-error" }
probe "after" { value = "ran" }
`})
	p := newProbe()
	p.failN["broken"] = 100
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil || p.state["after"] != "ran" {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	rr := r.rep.Resources[0]
	if !rr.IgnoredFailure || !rr.QuietFailure || !strings.Contains(rr.Error, "failed on purpose") {
		t.Fatalf("report: %+v", rr)
	}
	if strings.Contains(r.out, "failed on purpose") || !strings.Contains(r.out, `ignore_failure = "quiet"`) {
		t.Fatalf("quiet failure shown:\n%s", r.out)
	}
	bad := books(t, map[string]string{"app/recipes/default.lua": `probe "x" { ignore_failure = "loud" }`})
	if r := runWith(t, newProbe(), bad, nil, false, "app"); r.err == nil || !strings.Contains(r.err.Error(), `want true, false or "quiet"`) {
		t.Fatalf("ignore_failure = loud: %v", r.err)
	}
}
