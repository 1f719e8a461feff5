package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSummarise: the closing lines and a failed test's output pass
// through, a skipped test lands in the table with its reason, passing
// tests say nothing.
func TestSummarise(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"Action":"start","Package":"p"}`,
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: missing: wordpress\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"quiet\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
		`not json`,
	}, "\n")
	var out bytes.Buffer
	skips := summarise(strings.NewReader(in), &out)
	got := out.String()
	for _, want := range []string{"b_test.go:3: boom", "FAIL\tp\t0.1s", "not json"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") || strings.Contains(got, "=== RUN") {
		t.Errorf("passing tests' output shown:\n%s", got)
	}
	if len(skips) != 1 || skips[0].test != "TestA" || skips[0].reason != "a_test.go:9: missing: wordpress" {
		t.Fatalf("skips = %+v", skips)
	}
	var table bytes.Buffer
	printSkips(&table, skips)
	if !strings.Contains(table.String(), "skipped tests: 1") || !strings.Contains(table.String(), "TestA") {
		t.Fatalf("table:\n%s", table.String())
	}
}
