package port

import (
	"errors"
	"strings"

	"github.com/yuin/gopher-lua/parse"
)

// Schema tells the emitter which resource kinds and properties the
// engine has (agent passes the registry's view; nil accepts all).
type Schema interface {
	// Kind reports whether the kind exists, and whether it takes prop
	// (prop "" asks only about the kind).
	Has(kind, prop string) bool
}

// Stats counts what a conversion did.
type Stats struct {
	Resources, ResourcesClean    int // resource declarations, and those with no TODO
	TemplateLines, TemplateClean int // template lines holding Ruby, and those converted
	Todos                        map[string]int
}

func (s *Stats) add(o Stats) {
	s.Resources += o.Resources
	s.ResourcesClean += o.ResourcesClean
	s.TemplateLines += o.TemplateLines
	s.TemplateClean += o.TemplateClean
	if s.Todos == nil {
		s.Todos = map[string]int{}
	}
	for k, v := range o.Todos {
		s.Todos[k] += v
	}
}

// emitter writes Lua for Ruby statements.
type emitter struct {
	src     string
	mode    mode
	schema  Schema
	defs    map[string]string // definition name → its Lua module (cb.file)
	b       strings.Builder
	depth   int
	scopes  []map[string]bool
	helpers map[string]bool
	uses    map[string]bool // definitions used
	props   map[string]bool // a custom resource's properties
	// nextIsBreak is set inside a loop body wrapped in repeat … until
	// true, where Ruby's next is Lua's break.
	nextIsBreak bool
	stats       Stats
}

func newEmitter(src string, m mode, schema Schema, defs map[string]string) *emitter {
	return &emitter{src: src, mode: m, schema: schema, defs: defs, scopes: []map[string]bool{{}},
		helpers: map[string]bool{}, uses: map[string]bool{}, props: map[string]bool{}, stats: Stats{Todos: map[string]int{}}}
}

func (e *emitter) line(s string) {
	if s == "" {
		e.b.WriteByte('\n')
		return
	}
	e.b.WriteString(strings.Repeat("  ", e.depth))
	e.b.WriteString(s)
	e.b.WriteByte('\n')
}

// reason is the short label a TODO is counted under.
func reason(r string) string {
	for _, p := range []string{"syntax", "method", "unknown method", "unknown name", "constant call", "property", "resource kind", "node[:opsworks]", "instance variable", "operator"} {
		if strings.HasPrefix(r, p) {
			return p
		}
	}
	if i := strings.IndexAny(r, "(:"); i > 0 {
		return strings.TrimSpace(r[:i])
	}
	return r
}

// todoAt writes a TODO line and the Ruby of n, commented.
func (e *emitter) todoAt(n Node, why string) {
	e.stats.Todos[reason(why)]++
	e.line("-- TODO(port): " + oneLine(why))
	sp := n.sp()
	text := ""
	if sp.start >= 0 && sp.end <= len(e.src) && sp.start <= sp.end {
		text = e.src[sp.start:sp.end]
	}
	for _, l := range strings.Split(text, "\n") {
		e.line("-- " + commentSafe(strings.TrimRight(l, " \t\r")))
	}
}

// oneLine makes s fit on one comment line.
func oneLine(s string) string { return commentSafe(strings.ReplaceAll(s, "\n", " ")) }

// commentSafe replaces the control bytes (a lone \r ends a Lua comment)
// of text going into a comment.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (e *emitter) pushScope(names ...string) {
	sc := map[string]bool{}
	for _, n := range names {
		sc[n] = true
	}
	e.scopes = append(e.scopes, sc)
}

func (e *emitter) popScope() { e.scopes = e.scopes[:len(e.scopes)-1] }

func (e *emitter) declared(name string) bool {
	for i := len(e.scopes) - 1; i >= 0; i-- {
		if e.scopes[i][name] {
			return true
		}
	}
	return false
}

func (e *emitter) block(body []Node, params ...string) {
	e.depth++
	e.pushScope(params...)
	e.stmts(body)
	e.popScope()
	e.depth--
}

func (e *emitter) stmts(ns []Node) {
	prev := -1
	if e.depth == 0 {
		prev = 0
	}
	for _, n := range ns {
		if sp := n.sp(); prev >= 0 && prev <= sp.start && sp.start <= len(e.src) {
			e.gap(e.src[prev:sp.start], prev > 0)
		}
		e.stmt(n)
		prev = n.sp().end
	}
}

// gap carries the comments and blank lines between two statements over;
// after a statement, the rest of its own line (a trailing comment) is
// left out.
func (e *emitter) gap(text string, afterStmt bool) {
	lines := strings.Split(text, "\n")
	if afterStmt {
		lines = lines[1:]
	}
	if len(lines) > 0 {
		lines = lines[:len(lines)-1] // the start of the next statement's line
	}
	blank := false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "#"):
			if blank {
				e.line("")
			}
			blank = false
			e.line("--" + commentSafe(strings.TrimPrefix(l, "#")))
		case l == "":
			blank = e.b.Len() > 0
		}
	}
	if blank {
		e.line("")
	}
}

// stmt writes one statement; what it cannot translate becomes a TODO.
func (e *emitter) stmt(n Node) {
	mark := e.b.Len()
	err := e.try(n)
	if err == nil && e.depth == 0 {
		// A last check: what was written must be Lua (a translation that is
		// not, a bug of port, becomes a TODO rather than a broken file).
		if _, perr := parse.Parse(strings.NewReader(e.b.String()[mark:]), "port"); perr != nil {
			err = todo("translation is not valid Lua")
		}
	}
	if err != nil {
		var te *todoError
		if !errors.As(err, &te) {
			te = &todoError{err.Error()}
		}
		s := e.b.String()[:mark]
		e.b.Reset()
		e.b.WriteString(s)
		if isResource(e, n) {
			e.stats.Resources++
		}
		e.todoAt(n, te.reason)
	}
}

func (e *emitter) try(n Node) error {
	switch x := n.(type) {
	case *Todo:
		return todo(x.Reason)
	case *Assign:
		return e.assign(x)
	case *If:
		e.hoist(x)
		return e.ifStmt(x)
	case *Case:
		e.hoist(x)
		return e.caseStmt(x)
	case *While:
		c, err := e.expr(x.Cond)
		if err != nil {
			return err
		}
		if x.Neg {
			c = "not " + paren(c)
		}
		e.line("while " + c + " do")
		e.block(x.Body)
		e.line("end")
		return nil
	case *Ctrl:
		return e.ctrl(x)
	case *Call:
		return e.callStmt(x)
	case *Binary:
		if x.Op == "<<" {
			l, err := e.expr(x.L)
			if err != nil {
				return err
			}
			r, err := e.expr(x.R)
			if err != nil {
				return err
			}
			e.line("table.insert(" + l + ", " + r + ")")
			return nil
		}
	}
	return todo("statement")
}

func (e *emitter) ctrl(x *Ctrl) error {
	switch x.Kw {
	case "break":
		if e.nextIsBreak {
			return todo("break in a loop that also uses next")
		}
		e.line("do break end")
		return nil
	case "return":
		if x.Value == nil {
			e.line("do return end")
			return nil
		}
		v, err := e.expr(x.Value)
		if err != nil {
			return err
		}
		e.line("do return " + v + " end")
		return nil
	}
	if x.Kw == "next" && e.nextIsBreak && x.Value == nil {
		e.line("do break end -- next")
		return nil
	}
	return todo(x.Kw + " (Lua 5.1 has no continue)")
}

func (e *emitter) assign(x *Assign) error {
	v, err := e.expr(x.Value)
	if err != nil {
		return err
	}
	if vr, ok := x.Target.(*Var); ok {
		name := localName(vr.Name)
		if !e.declared(vr.Name) {
			e.scopes[len(e.scopes)-1][vr.Name] = true
			e.line("local " + name + " = " + v)
			return nil
		}
		return e.update(name, x.Op, v)
	}
	t, err := e.expr(x.Target)
	if err != nil {
		return err
	}
	if x.Op != "=" {
		if _, isAttr := nodePath(x.Target); isAttr || strings.HasPrefix(t, "default.") || strings.HasPrefix(t, "override.") {
			return todo("operator " + x.Op + " on an attribute")
		}
	}
	return e.update(t, x.Op, v)
}

func (e *emitter) update(t, op, v string) error {
	switch op {
	case "=":
		e.line(t + " = " + v)
	case "||=":
		e.line(t + " = " + t + " or " + paren(v))
	case "&&=":
		e.line(t + " = " + t + " and " + paren(v))
	case "+=", "-=", "*=":
		e.line(t + " = " + t + " " + op[:1] + " " + paren(v))
	default:
		return todo("operator " + op)
	}
	return nil
}

func (e *emitter) ifStmt(x *If) error {
	c, err := e.expr(x.Cond)
	if err != nil {
		return err
	}
	if x.Neg {
		c = "not " + paren(c)
	}
	e.line("if " + c + " then")
	e.block(x.Then)
	cur := x
	for len(cur.Else) == 1 {
		ei, ok := cur.Else[0].(*If)
		if !ok || !ei.Elsif {
			break
		}
		ec, err := e.expr(ei.Cond)
		if err != nil {
			return err
		}
		e.line("elseif " + ec + " then")
		e.block(ei.Then)
		cur = ei
	}
	if len(cur.Else) > 0 {
		e.line("else")
		e.block(cur.Else)
	}
	e.line("end")
	return nil
}

func (e *emitter) caseStmt(x *Case) error {
	var subj string
	if x.Subject != nil {
		s, err := e.expr(x.Subject)
		if err != nil {
			return err
		}
		subj = s
	}
	for i, w := range x.Whens {
		var conds []string
		for _, c := range w.Conds {
			switch c.(type) {
			case *Regexp, *Range, *Const:
				return todo("case/when with a pattern")
			}
			v, err := e.expr(c)
			if err != nil {
				return err
			}
			if subj != "" {
				v = paren(subj) + " == " + paren(v)
			}
			conds = append(conds, v)
		}
		kw := "elseif "
		if i == 0 {
			kw = "if "
		}
		e.line(kw + strings.Join(conds, " or ") + " then")
		e.block(w.Body)
	}
	if x.HasElse {
		if len(x.Whens) == 0 {
			return todo("case without when")
		}
		e.line("else")
		e.block(x.Else)
	}
	if len(x.Whens) > 0 {
		e.line("end")
	}
	return nil
}
