package port

import (
	"fmt"
	"strings"
)

// parser is a recursive-descent parser for the subset of Ruby that
// cookbooks use. A statement it cannot read becomes a Todo node holding
// its source span; the parser never gives up on the whole file.
type parser struct {
	src    string
	toks   []token
	i      int
	scopes []map[string]bool
	noDo   int // >0 while reading command arguments: "do" belongs to the outer call
}

// parseError aborts the statement being read (recovered in stmt).
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Parse parses Ruby source into statements. A tokenizer error makes the
// whole file one Todo (with the error), never a failure.
func Parse(src string) []Node {
	return parseWith(src, nil)
}

func parseWith(src string, locals []string) []Node {
	toks, err := tokenize(src)
	if err != nil {
		return []Node{&Todo{span: span{0, len(src), 1}, Reason: "syntax: " + err.Error()}}
	}
	p := &parser{src: src, toks: toks, scopes: []map[string]bool{{}}}
	for _, l := range locals {
		p.declare(l)
	}
	body := p.stmts()
	if p.tok().kind != tEOF {
		t := p.tok()
		body = append(body, &Todo{span: span{t.pos, len(src), t.line}, Reason: "syntax: unexpected " + describe(t)})
	}
	return body
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(format string, a ...any) {
	panic(&parseError{line: p.tok().line, msg: fmt.Sprintf(format, a...)})
}

func (p *parser) is(kind tokKind, text string) bool {
	t := p.tok()
	return t.kind == kind && t.text == text
}

func (p *parser) isOp(text string) bool { return p.is(tOp, text) }
func (p *parser) isKw(text string) bool { return p.is(tKw, text) }

func (p *parser) expectOp(text string) token {
	if !p.isOp(text) {
		p.fail("want %q, found %s", text, describe(p.tok()))
	}
	return p.advance()
}

func (p *parser) expectKw(text string) token {
	if !p.isKw(text) {
		p.fail("want %q, found %s", text, describe(p.tok()))
	}
	return p.advance()
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNL:
		return "end of line"
	case tStr:
		return "a string"
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) skipNL() {
	for p.tok().kind == tNL || p.isOp(";") {
		p.advance()
	}
}

func (p *parser) declare(name string) { p.scopes[len(p.scopes)-1][name] = true }

func (p *parser) isLocal(name string) bool {
	for i := len(p.scopes) - 1; i >= 0; i-- {
		if p.scopes[i][name] {
			return true
		}
	}
	return false
}

func (p *parser) spanFrom(t token) span {
	end := t.end
	if p.i > 0 {
		end = p.toks[p.i-1].end
	}
	if end < t.pos {
		end = t.pos
	}
	return span{t.pos, end, t.line}
}

// atTerminator reports whether the current token ends a statement list.
func (p *parser) atTerminator() bool {
	t := p.tok()
	if t.kind == tEOF || t.kind == tOp && t.text == "}" {
		return true
	}
	if t.kind == tKw {
		switch t.text {
		case "end", "else", "elsif", "when", "rescue", "ensure", "in":
			return true
		}
	}
	return false
}

// stmts reads statements up to a terminator.
func (p *parser) stmts() []Node {
	var out []Node
	for {
		p.skipNL()
		if p.atTerminator() {
			return out
		}
		start := p.i
		n := p.stmt()
		if p.i == start { // no progress: never loop forever
			t := p.advance()
			n = &Todo{span: span{t.pos, t.end, t.line}, Reason: "syntax: unexpected " + describe(t)}
		}
		out = append(out, n)
	}
}

// stmt reads one statement; on a parse error it skips to the statement's
// end and returns a Todo holding its source.
func (p *parser) stmt() (n Node) {
	start := p.i
	scopes := len(p.scopes)
	noDo := p.noDo
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		pe, ok := r.(*parseError)
		if !ok {
			panic(r)
		}
		p.scopes = p.scopes[:scopes]
		p.noDo = noDo
		p.i = start
		p.skipStmt()
		t := p.toks[start]
		n = &Todo{span: p.spanFrom(t), Reason: "syntax: " + pe.msg}
	}()
	e := p.exprStmt()
	for {
		switch {
		case p.isKw("if") || p.isKw("unless"):
			kw := p.advance()
			c := p.exprStmt()
			e = &If{span: p.spanFrom(p.toks[start]), Neg: kw.text == "unless", Cond: c, Then: []Node{e}, Modifier: true}
			continue
		case p.isKw("while") || p.isKw("until"):
			kw := p.advance()
			c := p.exprStmt()
			e = &While{span: p.spanFrom(p.toks[start]), Neg: kw.text == "until", Cond: c, Body: []Node{e}}
			continue
		case p.isKw("rescue"):
			p.fail("rescue modifier")
		}
		break
	}
	t := p.tok()
	if t.kind != tNL && !p.isOp(";") && !p.atTerminator() {
		p.fail("unexpected %s", describe(t))
	}
	return e
}

// skipStmt moves past the statement that starts at the cursor: to the
// end of its line, past any block it opens.
func (p *parser) skipStmt() {
	depth := 0
	for {
		t := p.tok()
		switch {
		case t.kind == tEOF:
			return
		case t.kind == tNL && depth <= 0:
			return
		case t.kind == tOp && (t.text == "(" || t.text == "[" || t.text == "{"):
			depth++
		case t.kind == tOp && (t.text == ")" || t.text == "]" || t.text == "}"):
			if depth == 0 {
				return
			}
			depth--
		case t.kind == tKw && p.opens(t):
			depth++
		case t.kind == tKw && t.text == "end":
			if depth == 0 {
				return
			}
			depth--
		case t.kind == tKw && depth == 0 && (t.text == "else" || t.text == "elsif" || t.text == "when" || t.text == "rescue" || t.text == "ensure"):
			if p.i > 0 && p.toks[p.i-1].kind == tNL {
				return
			}
		}
		p.advance()
	}
}

// opens reports whether keyword t opens a block closed by "end".
func (p *parser) opens(t token) bool {
	switch t.text {
	case "do", "def", "class", "module", "case", "begin":
		return true
	case "if", "unless", "while", "until":
		if p.i == 0 {
			return true
		}
		prev := p.toks[p.i-1]
		return prev.kind == tNL || prev.kind == tOp && prev.text != ")" && prev.text != "]" && prev.text != "}" ||
			prev.kind == tKw && (prev.text == "then" || prev.text == "else" || prev.text == "do" || prev.text == "return")
	}
	return false
}

// exprStmt is an expression with "not", "and" and "or".
func (p *parser) exprStmt() Node {
	var l Node
	if p.isKw("not") {
		t := p.advance()
		x := p.exprStmt()
		return &Unary{span: p.spanFrom(t), Op: "!", X: x}
	}
	start := p.tok()
	l = p.expr()
	for p.isKw("and") || p.isKw("or") {
		op := "&&"
		if p.advance().text == "or" {
			op = "||"
		}
		p.skipNL()
		var r Node
		if p.isKw("not") {
			t := p.advance()
			r = &Unary{span: p.spanFrom(t), Op: "!", X: p.expr()}
		} else {
			r = p.expr()
		}
		l = &Binary{span: p.spanFrom(start), Op: op, L: l, R: r}
	}
	return l
}

var assignOps = map[string]bool{"=": true, "||=": true, "&&=": true, "+=": true, "-=": true, "*=": true, "<<=": true, "|=": true}

// expr is an assignment or a ternary.
func (p *parser) expr() Node {
	start := p.tok()
	if start.kind == tIdent && p.peek(1).kind == tOp && assignOps[p.peek(1).text] {
		p.advance()
		op := p.advance().text
		p.skipNL()
		v := p.rhs()
		p.declare(start.text)
		return &Assign{span: p.spanFrom(start), Target: &Var{span: span{start.pos, start.end, start.line}, Name: start.text}, Op: op, Value: v}
	}
	if start.kind == tIdent && p.peek(1).kind == tOp && p.peek(1).text == "," && !p.isLocal(start.text) && p.multiAssignAhead() {
		p.fail("multiple assignment")
	}
	l := p.ternary()
	if t := p.tok(); t.kind == tOp && assignOps[t.text] {
		switch x := l.(type) {
		case *Index, *IVar:
		case *Call:
			if x.Recv == nil || len(x.Args) > 0 || x.Block != nil {
				p.fail("cannot assign to %s", x.Name)
			}
		default:
			p.fail("cannot assign here")
		}
		op := p.advance().text
		p.skipNL()
		v := p.rhs()
		return &Assign{span: p.spanFrom(start), Target: l, Op: op, Value: v}
	}
	return l
}

// rhs is the value of an assignment: an expression, or a list (a = 1, 2).
func (p *parser) rhs() Node {
	v := p.expr()
	if p.isOp(",") {
		p.fail("multiple values on the right of =")
	}
	return v
}

func (p *parser) multiAssignAhead() bool {
	for j := p.i; j < len(p.toks); j++ {
		t := p.toks[j]
		if t.kind == tNL || t.kind == tEOF {
			return false
		}
		if t.kind == tOp && t.text == "=" {
			return true
		}
		if t.kind != tIdent && !(t.kind == tOp && t.text == ",") {
			return false
		}
	}
	return false
}

func (p *parser) ternary() Node {
	start := p.tok()
	c := p.rangeExpr()
	if p.isOp("?") {
		p.advance()
		p.skipNL()
		a := p.ternary()
		p.skipNL()
		if p.tok().kind == tLabel { // a ? b: c lexed b as a label
			p.fail("ternary without space before ':'")
		}
		p.expectOp(":")
		p.skipNL()
		b := p.ternary()
		return &Ternary{span: p.spanFrom(start), C: c, A: a, B: b}
	}
	return c
}

func (p *parser) rangeExpr() Node {
	start := p.tok()
	a := p.binary(0)
	if p.isOp("..") || p.isOp("...") {
		excl := p.advance().text == "..."
		b := p.binary(0)
		return &Range{span: p.spanFrom(start), A: a, B: b, Excl: excl}
	}
	return a
}

// binaryLevels lists binary operators from the loosest to the tightest.
var binaryLevels = [][]string{
	{"||"}, {"&&"}, {"==", "!=", "=~", "!~", "===", "<=>"}, {"<", "<=", ">", ">="},
	{"|", "^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (p *parser) binary(level int) Node {
	if level == len(binaryLevels) {
		return p.unary()
	}
	start := p.tok()
	l := p.binary(level + 1)
	for {
		t := p.tok()
		if t.kind != tOp || !contains(binaryLevels[level], t.text) {
			return l
		}
		p.advance()
		p.skipNL()
		r := p.binary(level + 1)
		l = &Binary{span: p.spanFrom(start), Op: t.text, L: l, R: r}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() Node {
	t := p.tok()
	if t.kind == tOp && (t.text == "!" || t.text == "-" || t.text == "+" || t.text == "~") {
		p.advance()
		x := p.unary()
		if t.text == "+" {
			return x
		}
		return &Unary{span: p.spanFrom(t), Op: t.text, X: x}
	}
	if t.kind == tKw && t.text == "defined?" {
		p.fail("defined?")
	}
	x := p.postfix(p.primary())
	if p.isOp("**") {
		p.advance()
		r := p.unary()
		return &Binary{span: p.spanFrom(t), Op: "**", L: x, R: r}
	}
	return x
}

func joinNames(names []string) string { return strings.Join(names, "::") }
