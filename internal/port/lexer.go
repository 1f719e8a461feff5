// Package port converts Chef cookbooks written in Ruby to stackagent's Lua
// cookbooks: a tokenizer and parser for the subset of Ruby cookbooks use,
// and emitters for metadata, attributes, recipes, definitions, deploy hooks
// and ERB templates. It never evaluates the Ruby it reads: what it cannot
// translate becomes a `-- TODO(port): <reason>` line followed by the
// original Ruby as a comment.
package port

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a token.
type tokKind int

const (
	tEOF tokKind = iota
	tNL
	tIdent  // foo, foo?, foo!
	tConst  // Foo
	tIVar   // @foo
	tSym    // :foo, :"foo"
	tLabel  // foo: (a hash key)
	tStr    // '…', "…", %q, heredoc
	tWords  // %w[…], %i[…]
	tInt    // 42
	tFloat  // 4.2
	tKw     // keyword
	tOp     // operator or punctuation
	tRegexp // /…/ (kept as text, never translated)
)

// token is one token; str holds the parts of a string (text and
// interpolated code), words the items of %w[].
type token struct {
	kind  tokKind
	text  string
	parts []strPart
	words []string
	pos   int // byte offset of the token in the source
	end   int
	line  int
	space bool // whitespace before the token
}

// strPart is a piece of a string: literal text, or the source of an
// interpolation ("#{code}") when code is true.
type strPart struct {
	text string
	code bool
	pos  int // offset of the code in the whole source
}

var keywords = map[string]bool{
	"if": true, "elsif": true, "else": true, "unless": true, "end": true, "do": true,
	"case": true, "when": true, "then": true, "while": true, "until": true, "and": true,
	"or": true, "not": true, "nil": true, "true": true, "false": true, "begin": true,
	"rescue": true, "ensure": true, "def": true, "class": true, "module": true,
	"return": true, "next": true, "break": true, "yield": true, "self": true,
	"in": true, "for": true, "lambda": true, "proc": true, "retry": true, "redo": true,
	"super": true, "defined?": true, "__FILE__": true,
}

// lexError is a tokenizer failure at a line.
type lexError struct {
	line int
	msg  string
}

func (e *lexError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// lexer turns Ruby source into tokens.
type lexer struct {
	src    string
	pos    int
	line   int
	resume int // where the lexer goes on at the next newline (after heredoc bodies)
	toks   []token
}

// tokenize returns the tokens of src, or the first error.
func tokenize(src string) ([]token, error) {
	lx := &lexer{src: src, line: 1}
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		lx.toks = append(lx.toks, t)
		if t.kind == tEOF {
			return lx.toks, nil
		}
	}
}

func (lx *lexer) errorf(format string, a ...any) error {
	return &lexError{line: lx.line, msg: fmt.Sprintf(format, a...)}
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (lx *lexer) peekByte(off int) byte {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

// last is the previous significant token.
func (lx *lexer) last() token {
	if len(lx.toks) == 0 {
		return token{kind: tNL}
	}
	return lx.toks[len(lx.toks)-1]
}

// valueEnded reports whether the previous token ends a value, so that
// "/" or "<<" or "[" after it is an operator, not the start of a literal.
func (lx *lexer) valueEnded() bool {
	t := lx.last()
	switch t.kind {
	case tIdent, tConst, tIVar, tSym, tStr, tWords, tInt, tFloat, tRegexp:
		return true
	case tKw:
		return t.text == "end" || t.text == "self" || t.text == "nil" || t.text == "true" || t.text == "false"
	case tOp:
		return t.text == ")" || t.text == "]" || t.text == "}"
	}
	return false
}

func (lx *lexer) next() (token, error) {
	space := false
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			lx.pos++
			space = true
		case c == '\\' && lx.peekByte(1) == '\n':
			lx.pos += 2
			lx.line++
			space = true
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '=' && strings.HasPrefix(lx.src[lx.pos:], "=begin") && (lx.pos == 0 || lx.src[lx.pos-1] == '\n'):
			i := strings.Index(lx.src[lx.pos:], "\n=end")
			if i < 0 {
				return token{}, lx.errorf("=begin without =end")
			}
			lx.line += strings.Count(lx.src[lx.pos:lx.pos+i+5], "\n")
			lx.pos += i + 5
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		default:
			return lx.token(space)
		}
	}
	return token{kind: tEOF, pos: lx.pos, end: lx.pos, line: lx.line}, nil
}

func (lx *lexer) token(space bool) (token, error) {
	start, line := lx.pos, lx.line
	t, err := lx.scan(space)
	if err != nil {
		return t, err
	}
	t.pos, t.line, t.space = start, line, space
	if t.end == 0 {
		t.end = lx.pos
	}
	return t, nil
}

func (lx *lexer) scan(space bool) (token, error) {
	c := lx.src[lx.pos]
	switch {
	case c == '\n':
		lx.pos++
		lx.line++
		if lx.resume > 0 {
			lx.line += strings.Count(lx.src[lx.pos:lx.resume], "\n")
			lx.pos, lx.resume = lx.resume, 0
		}
		return token{kind: tNL, text: "\n", end: lx.pos}, nil
	case c >= '0' && c <= '9':
		return lx.number(), nil
	case c == '@':
		start := lx.pos
		lx.pos++
		for lx.pos < len(lx.src) && (isIdentChar(lx.src[lx.pos]) || lx.src[lx.pos] == '@') {
			lx.pos++
		}
		return token{kind: tIVar, text: lx.src[start:lx.pos]}, nil
	case isIdentStart(c):
		return lx.ident(), nil
	case c == '"' || c == '\'' || c == '`':
		lx.pos++
		return lx.quoted(c, c, c != '\'')
	case c == ':':
		return lx.colon(space)
	case c == '%' && !lx.valueEnded() || c == '%' && space && lx.pos+1 < len(lx.src) && strings.IndexByte("wWiIqQ", lx.src[lx.pos+1]) >= 0 && lx.pos+2 < len(lx.src) && !isIdentChar(lx.src[lx.pos+2]) && lx.src[lx.pos+2] != ' ':
		return lx.percent()
	case c == '<' && strings.HasPrefix(lx.src[lx.pos:], "<<") && lx.heredocAhead():
		return lx.heredoc()
	case c == '/' && (!lx.valueEnded() || space && lx.peekByte(1) != ' ' && lx.last().kind == tIdent):
		return lx.regexp()
	}
	return lx.operator()
}

func (lx *lexer) number() token {
	start := lx.pos
	float := false
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c >= '0' && c <= '9' || c == '_' || c == 'x' || c == 'o' || c >= 'a' && c <= 'f' && strings.HasPrefix(lx.src[start:], "0x") {
			lx.pos++
			continue
		}
		if c == '.' && lx.peekByte(1) >= '0' && lx.peekByte(1) <= '9' && !float {
			float = true
			lx.pos++
			continue
		}
		break
	}
	if float {
		return token{kind: tFloat, text: lx.src[start:lx.pos]}
	}
	return token{kind: tInt, text: lx.src[start:lx.pos]}
}

func (lx *lexer) ident() token {
	start := lx.pos
	for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
		lx.pos++
	}
	if c := lx.peekByte(0); (c == '?' || c == '!') && lx.peekByte(1) != '=' {
		lx.pos++
	} else if c == '?' && lx.peekByte(1) == '=' && lx.peekByte(2) == '=' {
		lx.pos++
	}
	word := lx.src[start:lx.pos]
	// A label (key: value) unless it is the "::" of a scope or a ternary's ":".
	if lx.peekByte(0) == ':' && lx.peekByte(1) != ':' && !strings.HasSuffix(word, "?") {
		lx.pos++
		return token{kind: tLabel, text: word}
	}
	if keywords[word] && !(lx.last().kind == tOp && lx.last().text == ".") {
		return token{kind: tKw, text: word}
	}
	if word[0] >= 'A' && word[0] <= 'Z' {
		return token{kind: tConst, text: word}
	}
	return token{kind: tIdent, text: word}
}

// colon lexes "::", a symbol (:name, :"name") or a lone ":" (ternary).
func (lx *lexer) colon(space bool) (token, error) {
	if lx.peekByte(1) == ':' {
		lx.pos += 2
		return token{kind: tOp, text: "::"}, nil
	}
	c := lx.peekByte(1)
	if c == '"' || c == '\'' {
		lx.pos += 2
		t, err := lx.quoted(c, c, c == '"')
		t.kind = tSym
		return t, err
	}
	if isIdentStart(c) && (space || !lx.valueEnded()) {
		lx.pos++
		t := lx.ident()
		if t.kind == tLabel { // :foo: is not a thing; give the colon back
			lx.pos--
		}
		return token{kind: tSym, text: t.text}, nil
	}
	if strings.IndexByte("+-*/<=>![%&|^~", c) >= 0 && (space || !lx.valueEnded()) && c != 0 {
		lx.pos++
		t, err := lx.operator()
		return token{kind: tSym, text: t.text}, err
	}
	lx.pos++
	return token{kind: tOp, text: ":"}, nil
}

var operators = []string{
	"**=", "<=>", "===", "...", "<<=", ">>=", "&&=", "||=", "&.",
	"**", "==", "!=", ">=", "<=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=",
	"%=", "|=", "&=", "=~", "!~", "..", "=>", "->",
	"+", "-", "*", "/", "%", "=", "<", ">", "!", "&", "|", "^", "~", "?",
	"(", ")", "[", "]", "{", "}", ",", ".", ";",
}

func (lx *lexer) operator() (token, error) {
	for _, op := range operators {
		if strings.HasPrefix(lx.src[lx.pos:], op) {
			lx.pos += len(op)
			return token{kind: tOp, text: op}, nil
		}
	}
	return token{}, lx.errorf("unexpected character %q", lx.src[lx.pos])
}

func (lx *lexer) regexp() (token, error) {
	start := lx.pos
	lx.pos++
	for lx.pos < len(lx.src) && lx.src[lx.pos] != '/' {
		if lx.src[lx.pos] == '\\' {
			lx.pos++
		}
		if lx.pos < len(lx.src) && lx.src[lx.pos] == '\n' {
			return token{}, lx.errorf("unterminated regexp")
		}
		lx.pos++
	}
	if lx.pos >= len(lx.src) {
		return token{}, lx.errorf("unterminated regexp")
	}
	lx.pos++
	for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
		lx.pos++
	}
	return token{kind: tRegexp, text: lx.src[start:lx.pos]}, nil
}
