package recipes

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Events receives the progress of a run, for output. Implementations must
// not block for long.
type Events interface {
	RunStarted(rep *Report)
	// Converging is called once the collection is compiled.
	Converging(resources int)
	ResourceStarted(rr *ResourceReport)
	ResourceFinished(rr *ResourceReport)
	RunFinished(rep *Report)
}

type nopEvents struct{}

func (nopEvents) RunStarted(*Report)               {}
func (nopEvents) Converging(int)                   {}
func (nopEvents) ResourceStarted(*ResourceReport)  {}
func (nopEvents) ResourceFinished(*ResourceReport) {}
func (nopEvents) RunFinished(*Report)              {}

// DocFormatter prints a run the way Chef's doc formatter does.
type DocFormatter struct {
	W          io.Writer
	mu         sync.Mutex
	lastRecipe string
	whyRun     bool
	// open: the last resource line printed awaits its outcome (a custom
	// resource's inner resources print under it before it finishes).
	open bool
}

var _ Events = (*DocFormatter)(nil)

// NewDocFormatter returns a formatter writing to w.
func NewDocFormatter(w io.Writer) *DocFormatter { return &DocFormatter{W: w} }

func (d *DocFormatter) printf(format string, a ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.W, format, a...)
}

// RunStarted prints the banner.
func (d *DocFormatter) RunStarted(rep *Report) {
	d.whyRun = rep.WhyRun
	mode := ""
	if rep.WhyRun {
		mode = " (why-run: nothing will be changed)"
	}
	d.printf("Starting stackagent run%s\nCompiling cookbooks...\n", mode)
}

// Converging prints the resource count.
func (d *DocFormatter) Converging(n int) { d.printf("Converging %d resources\n", n) }

// ResourceStarted prints the recipe header when it changes and the
// resource line.
func (d *DocFormatter) ResourceStarted(rr *ResourceReport) {
	if d.open {
		d.printf("\n")
	}
	if rr.Recipe != d.lastRecipe && rr.NotifiedBy == "" && rr.Depth == 0 {
		d.lastRecipe = rr.Recipe
		d.printf("Recipe: %s\n", rr.Recipe)
	}
	d.printf("%s  * %s action %s", indent(rr.Depth), rr.ID, rr.Action)
	d.open = true
}

func indent(depth int) string { return strings.Repeat("  ", depth) }

// ResourceFinished completes the resource line with its outcome.
func (d *DocFormatter) ResourceFinished(rr *ResourceReport) {
	var b strings.Builder
	nested := !d.open // inner resources were printed under it
	d.open = false
	if nested && (rr.Status == StatusUpToDate || rr.Status == StatusSkipped) {
		return
	}
	switch rr.Status {
	case StatusUpToDate:
		b.WriteString(" (up to date)\n")
	case StatusSkipped:
		if rr.SkippedBy == "action nothing" {
			b.WriteString(" (skipped due to action :nothing)\n")
		} else {
			fmt.Fprintf(&b, " (skipped due to %s)\n", rr.SkippedBy)
		}
	case StatusUpdated, StatusUnknown:
		if !nested {
			b.WriteString("\n")
		}
		in := indent(rr.Depth)
		for _, c := range rr.Changes {
			if d.whyRun && rr.Status == StatusUpdated {
				c = "Would " + c
			}
			fmt.Fprintf(&b, "%s    - %s\n", in, c)
		}
		for _, df := range rr.Diffs {
			for _, line := range strings.Split(strings.TrimRight(df, "\n"), "\n") {
				fmt.Fprintf(&b, "%s    %s\n", in, line)
			}
		}
		if rr.Sensitive && rr.Status == StatusUpdated {
			b.WriteString(in + "    - suppressed sensitive resource output\n")
		}
	case StatusFailed:
		b.WriteString("\n")
		if rr.QuietFailure {
			b.WriteString("    (failed; ignore_failure = \"quiet\")\n")
			break
		}
		if rr.IgnoredFailure {
			fmt.Fprintf(&b, "    [ignored failure] %s\n", rr.Error)
			break
		}
		bar := strings.Repeat("=", 80)
		fmt.Fprintf(&b, "\n    %s\n    Error executing action `%s` on resource '%s'\n    %s\n\n", bar, rr.Action, rr.ID, bar)
		for _, line := range strings.Split(rr.Error, "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
		fmt.Fprintf(&b, "\n    Resource Declaration:\n    ---------------------\n    # In %s\n", rr.Source)
		for _, line := range strings.Split(strings.TrimRight(rr.declaration, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
		b.WriteString("\n")
	}
	d.printf("%s", b.String())
}

// RunFinished prints the summary line, or the compile errors.
func (d *DocFormatter) RunFinished(rep *Report) {
	if len(rep.Errors) > 0 {
		d.printf("\n%s\nRecipe compile error%s\n%s\n\n", strings.Repeat("=", 80), plural(len(rep.Errors)), strings.Repeat("=", 80))
		for _, e := range rep.Errors {
			d.printf("  %s\n", e)
		}
		d.printf("\n")
	}
	verb := "resources updated"
	if rep.WhyRun {
		verb = "resources would have been updated"
	}
	d.printf("\nstackagent %s, %d/%d %s in %s\n", statusWord(rep), rep.UpdatedResources, rep.TotalResources, verb, seconds(rep.ElapsedSeconds))
	switch rep.Reboot {
	case "needed":
		d.printf("a reboot is needed: %s\n", rep.RebootReason)
	case "scheduled":
		d.printf("a reboot is scheduled: %s\n", rep.RebootReason)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func statusWord(rep *Report) string {
	switch rep.Status {
	case "success":
		return "finished"
	case "interrupted":
		return "interrupted"
	}
	return "failed"
}

func seconds(s float64) string { return fmt.Sprintf("%.2f seconds", s) }

// JSONFormatter writes one JSON object per event, one per line.
type JSONFormatter struct {
	W  io.Writer
	mu sync.Mutex
}

var _ Events = (*JSONFormatter)(nil)

func (j *JSONFormatter) emit(event string, v any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, _ := json.Marshal(struct {
		Time  string `json:"time"`
		Event string `json:"event"`
		Data  any    `json:"data,omitempty"`
	}{time.Now().UTC().Format(time.RFC3339Nano), event, v})
	j.W.Write(append(b, '\n'))
}

// RunStarted emits run_started.
func (j *JSONFormatter) RunStarted(rep *Report) {
	j.emit("run_started", map[string]any{"run_list": rep.RunList, "why_run": rep.WhyRun})
}

// Converging emits converging.
func (j *JSONFormatter) Converging(n int) { j.emit("converging", map[string]any{"resources": n}) }

// ResourceStarted emits nothing: resource_finished has it all.
func (j *JSONFormatter) ResourceStarted(*ResourceReport) {}

// ResourceFinished emits resource.
func (j *JSONFormatter) ResourceFinished(rr *ResourceReport) { j.emit("resource", rr) }

// RunFinished emits run_finished with the summary (not the resources,
// which were emitted one by one).
func (j *JSONFormatter) RunFinished(rep *Report) {
	sum := *rep
	sum.Resources = nil
	j.emit("run_finished", sum)
}
