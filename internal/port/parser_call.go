package port

// identifier reads a local variable or a method call (with parenthesised
// or command arguments, and a block).
func (p *parser) identifier() Node {
	t := p.advance()
	if p.isLocal(t.text) && !(p.isOp("(") && !p.tok().space) && !p.canStartArg() {
		return &Var{span: span{t.pos, t.end, t.line}, Name: t.text}
	}
	c := &Call{Name: t.text}
	p.callRest(c)
	c.span = p.spanFrom(t)
	return c
}

// callRest reads the arguments and block of a call whose name was read.
func (p *parser) callRest(c *Call) {
	switch {
	case p.isOp("(") && !p.tok().space:
		p.advance()
		c.Args = p.callArgs(")")
	case p.canStartArg():
		c.Args = p.commandArgs()
	}
	if p.isOp("{") {
		c.Block = p.block("}")
	} else if p.isKw("do") && p.noDo == 0 {
		c.Block = p.block("end")
	}
}

// canStartArg reports whether the current token begins the first argument
// of a command call (a call without parentheses: package 'x').
func (p *parser) canStartArg() bool {
	t := p.tok()
	if !t.space {
		return false
	}
	next := p.peek(1)
	switch t.kind {
	case tStr, tSym, tInt, tFloat, tIdent, tConst, tIVar, tWords, tLabel, tRegexp:
		return true
	case tKw:
		switch t.text {
		case "nil", "true", "false", "self", "not", "lambda", "proc", "defined?":
			return true
		}
	case tOp:
		switch t.text {
		case "[", "::", "(", "->":
			return true
		case "!", "-", "*", "&", ":":
			return !next.space
		}
	}
	return false
}

// commandArgs reads arguments up to the end of the line; "do" after them
// belongs to this call.
func (p *parser) commandArgs() []Node {
	p.noDo++
	defer func() { p.noDo-- }()
	return p.args(func() bool {
		if !p.isOp(",") {
			return false
		}
		p.advance()
		p.skipNL()
		return true
	})
}

// callArgs reads arguments up to close, newlines allowed.
func (p *parser) callArgs(close string) []Node {
	saved := p.noDo
	p.noDo = 0
	defer func() { p.noDo = saved }()
	p.skipNL()
	if p.isOp(close) {
		p.advance()
		return nil
	}
	args := p.args(func() bool {
		p.skipNL()
		if !p.isOp(",") {
			return false
		}
		p.advance()
		p.skipNL()
		return !p.isOp(close)
	})
	p.skipNL()
	p.expectOp(close)
	return args
}

// args reads arguments separated as more says; key: value and k => v
// pairs are gathered into a trailing Hash.
func (p *parser) args(more func() bool) []Node {
	var out []Node
	var h *Hash
	for {
		t := p.tok()
		if t.kind == tOp && (t.text == "*" || t.text == "**" || t.text == "&") {
			p.fail("splat or block argument")
		}
		var k, v Node
		switch {
		case t.kind == tLabel, t.kind == tStr && p.peek(1).kind == tOp && p.peek(1).text == ":" && !p.peek(1).space:
			k, v = p.pair()
		default:
			x := p.arg()
			if p.isOp("=>") {
				p.advance()
				p.skipNL()
				k, v = x, p.arg()
			} else {
				out = append(out, x)
			}
		}
		if k != nil {
			if h == nil {
				h = &Hash{span: span{t.pos, t.end, t.line}}
				out = append(out, h)
			}
			h.Keys = append(h.Keys, k)
			h.Vals = append(h.Vals, v)
			h.end = p.spanFrom(t).end
		}
		if !more() {
			return out
		}
	}
}

// block reads { |params| body } or do |params| body end.
func (p *parser) block(close string) *Block {
	t := p.advance()
	b := &Block{}
	if p.isOp("||") {
		p.advance()
	} else if p.isOp("|") {
		p.advance()
		for !p.isOp("|") {
			pt := p.tok()
			if pt.kind != tIdent {
				p.fail("block parameter %s", describe(pt))
			}
			b.Params = append(b.Params, p.advance().text)
			if p.isOp(",") {
				p.advance()
			} else if !p.isOp("|") {
				p.fail("block parameters: unexpected %s", describe(p.tok()))
			}
		}
		p.advance()
	}
	b.Body = p.scoped(b.Params, p.stmts)
	p.skipNL()
	if close == "}" {
		p.expectOp("}")
	} else {
		p.expectKw("end")
	}
	b.span = p.spanFrom(t)
	return b
}

// postfix reads .method, ::method and [index] after x.
func (p *parser) postfix(x Node) Node {
	start := x.sp()
	for {
		if p.tok().kind == tNL && p.chainAhead() {
			p.skipNL()
		}
		switch {
		case p.isOp(".") || p.isOp("&.") || p.isOp("::") && p.peek(1).kind == tIdent:
			p.advance()
			nt := p.tok()
			if nt.kind != tIdent && nt.kind != tConst && nt.kind != tKw && nt.kind != tLabel {
				p.fail("want a method name after '.', found %s", describe(nt))
			}
			if nt.kind == tLabel {
				p.fail("method name followed by ':'")
			}
			p.advance()
			c := &Call{Recv: x, Name: nt.text}
			p.callRest(c)
			c.span = span{start.start, p.spanFrom(nt).end, start.line}
			x = c
		case p.isOp("[") && !p.tok().space:
			p.advance()
			args := p.callArgs("]")
			x = &Index{span: span{start.start, p.toks[p.i-1].end, start.line}, Recv: x, Args: args}
		default:
			return x
		}
	}
}

// chainAhead reports whether the next line starts with ".method".
func (p *parser) chainAhead() bool {
	j := p.i
	for j < len(p.toks) && p.toks[j].kind == tNL {
		j++
	}
	return j < len(p.toks) && p.toks[j].kind == tOp && (p.toks[j].text == "." || p.toks[j].text == "&.")
}
