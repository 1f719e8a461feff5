package port

import (
	"bytes"
	"testing"
)

// TestCoverageFigure ports the fixture cookbooks and prints the share of
// resource declarations and template lines converted with no TODO (the
// figure in docs/porting.md; goal ≥ 90%):
//
//	go test ./internal/port/ -run TestCoverageFigure -v
func TestCoverageFigure(t *testing.T) {
	t.Parallel()
	sum, err := Port([]string{"testdata/cookbooks"}, Options{Out: t.TempDir(), Schema: nil})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	sum.Write(&b)
	t.Logf("\n%s", b.String())
	if len(sum.Errors) > 0 {
		t.Fatalf("errors: %v", sum.Errors)
	}
	res := float64(sum.ResourcesClean) / float64(sum.Resources)
	tpl := float64(sum.TemplateClean) / float64(sum.TemplateLines)
	t.Logf("resources %.1f%% (%d/%d), template lines %.1f%% (%d/%d)", 100*res, sum.ResourcesClean, sum.Resources, 100*tpl, sum.TemplateClean, sum.TemplateLines)
	if sum.Resources < 15 || sum.TemplateLines < 25 || res < 0.9 || tpl < 0.9 {
		t.Fatalf("below the goal of 90%% (or the fixtures shrank): resources %d/%d, template lines %d/%d",
			sum.ResourcesClean, sum.Resources, sum.TemplateClean, sum.TemplateLines)
	}
}
