// Command gotest runs `go test -json ARGS...` and prints what plain
// `go test` would (each package's closing "ok" / "FAIL" line, the output
// of failed tests, build errors), then a table of every skipped test with
// its reason. It exits with go test's status. make test and .ci/run use
// it: under CI as root the table must be empty (testenv.Require turns a
// missing prerequisite into a failure there).
//
//	go run ./testenv/gotest -race -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
)

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is one skipped test and why.
type skip struct{ pkg, test, reason string }

func main() {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
	skips := summarise(out, os.Stdout)
	err = cmd.Wait()
	printSkips(os.Stdout, skips)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(2)
	}
}

// summarise copies the plain output of r's events to w and returns the
// skipped tests.
func summarise(r io.Reader, w io.Writer) []skip {
	var skips []skip
	logs := map[string][]string{} // package/test → its output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text()) // not JSON: pass it on
			continue
		}
		key := e.Package + "/" + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "output" && e.Test == "":
			if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" {
				fmt.Fprint(w, e.Output) // ok / FAIL / panics / TestMain output
			}
		case e.Action == "output":
			logs[key] = append(logs[key], e.Output)
		case e.Action == "fail" && e.Test != "":
			fmt.Fprint(w, strings.Join(logs[key], ""))
			delete(logs, key)
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, skip{e.Package, e.Test, reason(logs[key])})
			delete(logs, key)
		case e.Action == "pass":
			delete(logs, key)
		}
	}
	return skips
}

// reason is the skip message: the test's log lines but the framework's.
func reason(lines []string) string {
	var keep []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		keep = append(keep, t)
	}
	if len(keep) == 0 {
		return "(no reason given)"
	}
	r := keep[len(keep)-1]
	if len(r) > 160 {
		r = r[:157] + "..."
	}
	return r
}

func printSkips(w io.Writer, skips []skip) {
	sort.Slice(skips, func(i, j int) bool {
		if skips[i].pkg != skips[j].pkg {
			return skips[i].pkg < skips[j].pkg
		}
		return skips[i].test < skips[j].test
	})
	fmt.Fprintf(w, "\nskipped tests: %d\n", len(skips))
	if len(skips) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tTEST\tREASON")
	for _, s := range skips {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.TrimPrefix(s.pkg, "github.com/stackagent/stackagent/"), s.test, s.reason)
	}
	tw.Flush()
}
