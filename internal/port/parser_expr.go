package port

import "strings"

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
