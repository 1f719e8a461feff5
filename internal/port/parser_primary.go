package port

func (p *parser) primary() Node {
	t := p.tok()
	sp := span{t.pos, t.end, t.line}
	switch t.kind {
	case tStr:
		p.advance()
		return p.str(t)
	case tSym:
		p.advance()
		return &Sym{span: sp, Name: t.text}
	case tInt, tFloat:
		p.advance()
		return &Num{span: sp, Text: t.text}
	case tWords:
		p.advance()
		return &Words{span: sp, Items: t.words}
	case tRegexp:
		p.advance()
		return &Regexp{span: sp, Text: t.text}
	case tIVar:
		p.advance()
		return &IVar{span: sp, Name: t.text[1:]}
	case tConst:
		return p.constant()
	case tIdent:
		return p.identifier()
	case tLabel:
		p.fail("unexpected label %s:", t.text)
	case tKw:
		return p.keyword()
	case tOp:
		switch t.text {
		case "(":
			p.advance()
			p.skipNL()
			x := p.exprStmt()
			p.skipNL()
			p.expectOp(")")
			return x
		case "[":
			p.advance()
			elems := p.list("]")
			return &Array{span: p.spanFrom(t), Elems: elems}
		case "{":
			return p.hash()
		case "::":
			return p.constant()
		}
	}
	p.fail("unexpected %s", describe(t))
	return nil
}

func (p *parser) str(t token) Node {
	s := &Str{span: span{t.pos, t.end, t.line}}
	for _, part := range t.parts {
		if !part.code {
			s.Segs = append(s.Segs, Seg{Text: part.text})
			continue
		}
		s.Segs = append(s.Segs, Seg{Expr: p.interp(part, t.line)})
	}
	return s
}

// interp parses the code of a #{…}: one expression, with the locals in scope.
func (p *parser) interp(part strPart, line int) Node {
	var locals []string
	for _, sc := range p.scopes {
		for k := range sc {
			locals = append(locals, k)
		}
	}
	body := parseWith(part.text, locals)
	sp := span{part.pos, part.pos + len(part.text), line}
	if len(body) != 1 {
		return &Todo{span: sp, Reason: "interpolation"}
	}
	if td, ok := body[0].(*Todo); ok {
		return &Todo{span: sp, Reason: td.Reason}
	}
	return &Interp{span: sp, X: body[0], Src: part.text}
}

// Interp wraps the expression of a #{…}: the spans inside it are offsets
// into Src, the interpolation's own source.
type Interp struct {
	span
	X   Node
	Src string
}

func (p *parser) constant() Node {
	t := p.tok()
	var names []string
	if p.isOp("::") {
		p.advance()
	}
	for {
		if p.tok().kind != tConst {
			p.fail("want a constant, found %s", describe(p.tok()))
		}
		names = append(names, p.advance().text)
		if !p.isOp("::") || p.peek(1).kind != tConst {
			break
		}
		p.advance()
	}
	return &Const{span: p.spanFrom(t), Names: names}
}

func (p *parser) keyword() Node {
	t := p.tok()
	sp := span{t.pos, t.end, t.line}
	switch t.text {
	case "nil", "true", "false", "self":
		p.advance()
		return &Lit{span: sp, Name: t.text}
	case "if", "unless":
		return p.ifExpr()
	case "case":
		return p.caseExpr()
	case "while", "until":
		p.advance()
		c := p.exprStmt()
		if p.isKw("do") {
			p.advance()
		}
		body := p.scoped(nil, p.stmts)
		p.expectKw("end")
		return &While{span: p.spanFrom(t), Neg: t.text == "until", Cond: c, Body: body}
	case "return", "next", "break":
		p.advance()
		var v Node
		if nt := p.tok(); nt.kind != tNL && nt.kind != tEOF && !p.atTerminator() && !p.isKw("if") && !p.isKw("unless") && !p.isOp(";") {
			v = p.expr()
		}
		return &Ctrl{span: p.spanFrom(t), Kw: t.text, Value: v}
	}
	p.fail("%s is not supported", t.text)
	return nil
}

func (p *parser) ifExpr() Node {
	t := p.advance()
	c := p.exprStmt()
	p.then()
	n := &If{span: span{t.pos, t.end, t.line}, Neg: t.text == "unless", Cond: c}
	n.Then = p.stmts()
	cur := n
	for p.isKw("elsif") {
		et := p.advance()
		ec := p.exprStmt()
		p.then()
		e := &If{span: span{et.pos, et.end, et.line}, Cond: ec, Elsif: true}
		e.Then = p.stmts()
		cur.Else = []Node{e}
		cur = e
	}
	if p.isKw("else") {
		p.advance()
		cur.Else = p.stmts()
	}
	p.expectKw("end")
	n.span = p.spanFrom(t)
	return n
}

func (p *parser) then() {
	if p.isKw("then") {
		p.advance()
	}
	p.skipNL()
	if p.isKw("then") {
		p.advance()
	}
}

func (p *parser) caseExpr() Node {
	t := p.advance()
	n := &Case{}
	if p.tok().kind != tNL {
		n.Subject = p.exprStmt()
	}
	p.skipNL()
	for p.isKw("when") {
		p.advance()
		var w When
		for {
			if p.isOp("*") {
				p.fail("splat in when")
			}
			w.Conds = append(w.Conds, p.ternary())
			if !p.isOp(",") {
				break
			}
			p.advance()
			p.skipNL()
		}
		p.then()
		w.Body = p.stmts()
		n.Whens = append(n.Whens, w)
	}
	if p.isKw("in") {
		p.fail("pattern matching")
	}
	if p.isKw("else") {
		p.advance()
		n.HasElse = true
		n.Else = p.stmts()
	}
	p.expectKw("end")
	n.span = p.spanFrom(t)
	return n
}

// list reads comma-separated expressions up to close (newlines allowed).
func (p *parser) list(close string) []Node {
	var out []Node
	p.skipNL()
	for !p.isOp(close) {
		if p.isOp("*") {
			p.fail("splat")
		}
		out = append(out, p.arg())
		p.skipNL()
		if p.isOp(",") {
			p.advance()
			p.skipNL()
			continue
		}
		p.skipNL()
		if !p.isOp(close) {
			p.fail("want %q, found %s", close, describe(p.tok()))
		}
	}
	p.advance()
	return out
}

// arg is one argument or array element (no "do" blocks bind inside).
func (p *parser) arg() Node {
	if p.isKw("not") {
		t := p.advance()
		return &Unary{span: p.spanFrom(t), Op: "!", X: p.expr()}
	}
	return p.expr()
}

func (p *parser) hash() Node {
	t := p.expectOp("{")
	h := &Hash{}
	p.skipNL()
	for !p.isOp("}") {
		k, v := p.pair()
		h.Keys = append(h.Keys, k)
		h.Vals = append(h.Vals, v)
		p.skipNL()
		if p.isOp(",") {
			p.advance()
			p.skipNL()
			continue
		}
		if !p.isOp("}") {
			p.fail("want \"}\", found %s", describe(p.tok()))
		}
	}
	p.advance()
	h.span = p.spanFrom(t)
	return h
}

// pair reads key: value, "key": value or key => value.
func (p *parser) pair() (Node, Node) {
	t := p.tok()
	if t.kind == tLabel {
		p.advance()
		p.skipNL()
		return &Sym{span: span{t.pos, t.end, t.line}, Name: t.text}, p.arg()
	}
	if t.kind == tStr && p.peek(1).kind == tOp && p.peek(1).text == ":" && !p.peek(1).space {
		p.advance()
		p.advance()
		p.skipNL()
		return p.str(t), p.arg()
	}
	k := p.arg()
	p.skipNL()
	p.expectOp("=>")
	p.skipNL()
	return k, p.arg()
}

// scoped runs f in a new local scope holding params.
func (p *parser) scoped(params []string, f func() []Node) []Node {
	p.scopes = append(p.scopes, map[string]bool{})
	for _, x := range params {
		p.declare(x)
	}
	defer func() { p.scopes = p.scopes[:len(p.scopes)-1] }()
	return f()
}
