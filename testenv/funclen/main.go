// Command funclen is the house rule on function length (issue 13): it
// measures every function and method declared in the module's non-test,
// non-generated Go files, prints the count and the median length, and
// fails when a function is longer than -max lines (60) or the median is
// above -median (15). make lint-funclen runs it.
//
//	go run ./testenv/funclen [-max 60] [-median 15] [dir ...]
//
// Definitions:
//
//   - A function's length is its lines from the func keyword to the
//     closing brace, both included (its doc comment is not counted).
//     Only declarations are measured (func F, func (r T) M); a function
//     literal counts as part of the function it is written in.
//   - Skipped: _test.go files; generated files (a "// Code generated …
//     DO NOT EDIT." comment before the package clause, as go/ast's
//     IsGenerated reads it); directories named testdata, vendor or
//     node_modules, or starting with "." or "_"; nested modules (a
//     directory with its own go.mod).
//   - A table literal is a function whose body is exactly one statement,
//     and that statement is `return L` with one result, or `x = L` /
//     `x := L` with one variable and one value, where L is a composite
//     literal (T{…}, map[K]V{…}, []T{…}) or the address of one (&T{…}).
//     A table may be longer than -max: it is data, read row by row. Each
//     function literal inside it is measured against -max on its own, so
//     logic cannot hide in a table. Tables count in the median.
//
// Exit status: 0 when every rule holds, 1 when one fails, 2 when a file
// cannot be read or parsed or the arguments are wrong.
package main

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// funcLen is one measured function.
type funcLen struct {
	Pos   string // file:line of the func keyword
	Name  string // F, T.M or (*T).M; a literal in a table is "F.func"
	Lines int
	Table bool // a table literal (exempt from -max)
	// Literal: a function literal inside a table, measured on its own
	// but not a function of the median.
	Literal bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its arguments and output given; it returns the exit
// status.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("funclen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	maxLines := fl.Int("max", 60, "longest function allowed, in lines (table literals excepted)")
	maxMedian := fl.Int("median", 15, "largest median function length allowed, in lines")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	dirs := fl.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	var all []funcLen
	for _, dir := range dirs {
		fns, err := measureTree(dir)
		if err != nil {
			fmt.Fprintf(stderr, "funclen: %v\n", err)
			return 2
		}
		all = append(all, fns...)
	}
	return report(stdout, all, *maxLines, *maxMedian)
}

// report prints the count, the median and every function over maxLines,
// longest first, and returns 1 when a rule fails.
func report(w io.Writer, fns []funcLen, maxLines, maxMedian int) int {
	n, med := median(fns)
	fmt.Fprintf(w, "funclen: %d functions, median %d lines (limit %d), longest allowed %d lines\n", n, med, maxMedian, maxLines)
	long := tooLong(fns, maxLines)
	for _, f := range long {
		fmt.Fprintf(w, "%s: %s is %d lines (limit %d)\n", f.Pos, f.Name, f.Lines, maxLines)
	}
	status := 0
	if len(long) > 0 {
		fmt.Fprintf(w, "funclen: %d functions over %d lines: split them along their steps\n", len(long), maxLines)
		status = 1
	}
	if med > maxMedian {
		fmt.Fprintf(w, "funclen: median %d lines is over %d\n", med, maxMedian)
		status = 1
	}
	return status
}

// tooLong lists the functions over maxLines that are not tables, longest
// first.
func tooLong(fns []funcLen, maxLines int) []funcLen {
	var long []funcLen
	for _, f := range fns {
		if f.Lines > maxLines && !f.Table {
			long = append(long, f)
		}
	}
	slices.SortStableFunc(long, func(a, b funcLen) int { return b.Lines - a.Lines })
	return long
}

// median counts the functions and returns the middle length (the upper
// one of an even count; 0 when there are none). Literals measured inside
// tables are not functions of their own and are left out.
func median(fns []funcLen) (n, med int) {
	var lens []int
	for _, f := range fns {
		if !f.Literal {
			lens = append(lens, f.Lines)
		}
	}
	if len(lens) == 0 {
		return 0, 0
	}
	slices.Sort(lens)
	return len(lens), lens[len(lens)/2]
}

// measureTree measures every Go file under root that the rule covers.
func measureTree(root string) ([]funcLen, error) {
	fset := token.NewFileSet()
	var out []funcLen
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDir(p, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fns, err := measureFile(fset, p)
		out = append(out, fns...)
		return err
	})
	return out, err
}

// skipDir says whether the walk leaves out the directory at p.
func skipDir(p, name string) bool {
	switch {
	case name == "testdata" || name == "vendor" || name == "node_modules":
		return true
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		return true
	}
	_, err := os.Stat(filepath.Join(p, "go.mod"))
	return !errors.Is(err, fs.ErrNotExist)
}

// measureFile measures the functions declared in one file; none when the
// file is generated.
func measureFile(fset *token.FileSet, path string) ([]funcLen, error) {
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var out []funcLen
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		fn := funcLen{Pos: where(fset, fd.Pos()), Name: funcName(fd), Lines: lines(fset, fd.Pos(), fd.End()), Table: isTable(fd.Body)}
		out = append(out, fn)
		if fn.Table {
			out = append(out, literalsIn(fset, fd.Body, fn.Name)...)
		}
	}
	return out, nil
}

// isTable says whether body is a table literal: one statement, a return
// of one composite literal or an assignment of one to one variable.
func isTable(body *ast.BlockStmt) bool {
	if len(body.List) != 1 {
		return false
	}
	switch s := body.List[0].(type) {
	case *ast.ReturnStmt:
		return len(s.Results) == 1 && isCompositeLit(s.Results[0])
	case *ast.AssignStmt:
		return len(s.Lhs) == 1 && len(s.Rhs) == 1 && isCompositeLit(s.Rhs[0])
	}
	return false
}

// isCompositeLit says whether e is T{…} or &T{…}, parentheses aside.
func isCompositeLit(e ast.Expr) bool {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	_, ok := e.(*ast.CompositeLit)
	return ok
}

// literalsIn measures the function literals in a table's body (the
// outermost ones: a literal's own literals are part of it).
func literalsIn(fset *token.FileSet, body *ast.BlockStmt, name string) []funcLen {
	var out []funcLen
	ast.Inspect(body, func(n ast.Node) bool {
		lit, ok := n.(*ast.FuncLit)
		if !ok {
			return true
		}
		out = append(out, funcLen{Pos: where(fset, lit.Pos()), Name: name + ".func", Lines: lines(fset, lit.Pos(), lit.End()), Literal: true})
		return false
	})
	return out
}

// funcName is F, T.M or (*T).M.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		return "(*" + typeName(star.X) + ")." + fd.Name.Name
	}
	return typeName(t) + "." + fd.Name.Name
}

// typeName is a receiver type's name, its type parameters left out.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return typeName(t.X)
	case *ast.IndexListExpr:
		return typeName(t.X)
	}
	return "?"
}

func where(fset *token.FileSet, p token.Pos) string {
	pos := fset.Position(p)
	return fmt.Sprintf("%s:%d", pos.Filename, pos.Line)
}

// lines counts the lines from from's to to's, both included.
func lines(fset *token.FileSet, from, to token.Pos) int {
	return fset.Position(to).Line - fset.Position(from).Line + 1
}
