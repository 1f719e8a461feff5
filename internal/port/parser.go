package port

import (
	"fmt"
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
