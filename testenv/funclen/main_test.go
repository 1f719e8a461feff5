package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/testutil"
)

// body is n statement lines, so that a function with it is n+2 lines.
func body(n int) string {
	return strings.Repeat("\tx++\n", n)
}

// rows is n lines of table rows.
func rows(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "\t\t%q: %d,\n", fmt.Sprint("k", i), i)
	}
	return b.String()
}

// writeTree writes files (name → source) under a temp dir and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteTree(t, dir, files)
	return dir
}

// measured maps each measured function's name to its length.
func measured(t *testing.T, dir string) map[string]funcLen {
	t.Helper()
	fns, err := measureTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]funcLen{}
	for _, f := range fns {
		out[f.Name] = f
	}
	return out
}

func TestLengthsAndNames(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"a.go": "package a\n\n// Under is documented; the comment is not counted.\nfunc Under() {\n\tvar x int\n" + body(57) + "\t_ = x\n}\n\n" +
			"type T struct{}\n\nfunc (T) Val() {}\n\nfunc (t *T) Ptr() {\n}\n\ntype G[P any] struct{}\n\nfunc (g *G[P]) Gen() {}\n",
	})
	got := measured(t, dir)
	want := map[string]int{"Under": 61, "T.Val": 1, "(*T).Ptr": 2, "(*G).Gen": 1}
	for name, n := range want {
		if got[name].Lines != n {
			t.Errorf("%s: %d lines, want %d (all: %v)", name, got[name].Lines, n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("measured %v, want only %v", got, want)
	}
	if !strings.HasSuffix(got["Under"].Pos, "a.go:4") {
		t.Errorf("Under at %s, want a.go:4 (the func keyword)", got["Under"].Pos)
	}
}

func TestTableLiteral(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		table     bool
	}{
		{"map return", "func F() map[string]int {\n\treturn map[string]int{\n" + rows(3) + "\t}\n}\n", true},
		{"address of struct", "type K struct{ A int }\n\nfunc F() *K {\n\treturn &K{\n\t\tA: 1,\n\t}\n}\n", true},
		{"parenthesised", "func F() []int {\n\treturn ([]int{1, 2})\n}\n", true},
		{"package var", "var m map[string]int\n\nfunc F() {\n\tm = map[string]int{\n" + rows(2) + "\t}\n}\n", true},
		{"define then use", "func F() {\n\tm := map[string]int{\n" + rows(2) + "\t}\n\t_ = m\n}\n", false},
		{"statement before", "func F() []int {\n\tn := 1\n\treturn []int{n}\n}\n", false},
		{"call", "func F() []int {\n\treturn append([]int{}, 1)\n}\n", false},
		{"two results", "func F() ([]int, error) {\n\treturn []int{}, nil\n}\n", false},
		{"two variables", "var a, b []int\n\nfunc F() {\n\ta, b = []int{}, []int{}\n}\n", false},
		{"empty", "func F() {}\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := measured(t, writeTree(t, map[string]string{"a.go": "package a\n\n" + c.src}))
			if got["F"].Table != c.table {
				t.Errorf("table = %v, want %v:\n%s", got["F"].Table, c.table, c.src)
			}
		})
	}
}

func TestGateFailsOverLimitOnly(t *testing.T) {
	t.Parallel()
	long := "func Long() {\n\tvar x int\n" + body(58) + "\t_ = x\n}\n"   // 62 lines
	exact := "func Exact() {\n\tvar x int\n" + body(56) + "\t_ = x\n}\n" // 60 lines
	table := "func Table() map[string]int {\n\treturn map[string]int{\n" + rows(80) + "\t}\n}\n"
	hidden := "func Hidden() []func() {\n\treturn []func(){\n\t\tfunc() {\n\t\t\tvar x int\n" +
		strings.Repeat("\t\t\tx++\n", 60) + "\t\t\t_ = x\n\t\t},\n\t}\n}\n"
	cases := []struct {
		name, src string
		status    int
		says      string
	}{
		{"at the limit", exact, 0, "1 functions, median 60"},
		{"over", long, 1, "Long is 62 lines (limit 60)"},
		{"table over", table, 0, "1 functions, median 84"},
		{"literal in a table over", hidden, 1, "Hidden.func is 64 lines"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"a.go": "package a\n\n" + c.src})
			var out, errs bytes.Buffer
			status := run([]string{"-median", "100", dir}, &out, &errs)
			if status != c.status || !strings.Contains(out.String(), c.says) {
				t.Errorf("status %d, want %d; output does not say %q:\n%s%s", status, c.status, c.says, out.String(), errs.String())
			}
		})
	}
}

func TestMedianLimit(t *testing.T) {
	t.Parallel()
	src := "package a\n\nfunc A() {\n" + body(20) + "}\n\nfunc B() {\n" + body(20) + "}\n\nfunc C() {}\n"
	dir := writeTree(t, map[string]string{"a.go": src})
	var out bytes.Buffer
	if status := run([]string{dir}, &out, &out); status != 1 || !strings.Contains(out.String(), "median 22 lines is over 15") {
		t.Errorf("status %d, want 1 for a median of 22:\n%s", status, out.String())
	}
	out.Reset()
	if status := run([]string{"-median", "22", dir}, &out, &out); status != 0 {
		t.Errorf("status %d with -median 22, want 0:\n%s", status, out.String())
	}
}

func TestSkipsTestsGeneratedAndOtherTrees(t *testing.T) {
	t.Parallel()
	long := "func Long() {\n" + body(70) + "}\n"
	dir := writeTree(t, map[string]string{
		"ok.go":                  "package a\n\nfunc Short() {}\n",
		"a_test.go":              "package a\n\n" + long,
		"gen.go":                 "// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage a\n\n" + long,
		"testdata/x.go":          "package x\n\n" + long,
		"vendor/v/x.go":          "package x\n\n" + long,
		"node_modules/n/x.go":    "package x\n\n" + long,
		".hidden/x.go":           "package x\n\n" + long,
		"_old/x.go":              "package x\n\n" + long,
		"nested/go.mod":          "module nested\n",
		"nested/x.go":            "package x\n\n" + long,
		"sub/handwritten.go":     "package sub\n\n// Code generated by hand, later edited.\n\n" + long,
		"sub/notes.txt":          "not go",
		"sub/deeper/deeper.go":   "package deeper\n\nfunc Deeper() {}\n",
		"sub/deeper/deeper2.go":  "package deeper\n",
		"nested2/nested2_doc.go": "package nested2\n",
	})
	got := measured(t, dir)
	if len(got) != 3 || got["Short"].Lines != 1 || got["Deeper"].Lines != 1 || got["Long"].Lines != 72 {
		t.Errorf("measured %v, want Short, Deeper and sub's Long (a comment after the package clause does not mark a file generated)", got)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{"bad.go": "package a\n\nfunc {\n"})
	var out, errs bytes.Buffer
	if status := run([]string{dir}, &out, &errs); status != 2 || !strings.Contains(errs.String(), "bad.go:3") {
		t.Errorf("status %d, want 2 naming bad.go:3: %s", status, errs.String())
	}
	if status := run([]string{filepath.Join(dir, "missing")}, &out, &errs); status != 2 {
		t.Errorf("status %d for a missing dir, want 2", status)
	}
	if status := run([]string{"-max", "x"}, &out, &errs); status != 2 {
		t.Errorf("status %d for a bad flag, want 2", status)
	}
}
