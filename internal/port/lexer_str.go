package port

import (
	"strings"
)

// quoted lexes a string whose opening delimiter has been read: it finds
// the end (nested brackets, escapes and #{…} respected) and splits the
// text into literal and interpolated parts.
func (lx *lexer) quoted(open, close byte, interp bool) (token, error) {
	start := lx.pos
	depth := 0
	for {
		if lx.pos >= len(lx.src) {
			return token{}, lx.errorf("unterminated string")
		}
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.pos++
		case c == '\n':
			lx.line++
		case interp && c == '#' && lx.peekByte(1) == '{':
			end, err := skipBraces(lx.src, lx.pos+1)
			if err != nil {
				return token{}, lx.errorf("%v", err)
			}
			lx.line += strings.Count(lx.src[lx.pos:end], "\n")
			lx.pos = end - 1
		case open != close && c == open:
			depth++
		case c == close && depth > 0:
			depth--
		case c == close:
			raw := lx.src[start:lx.pos]
			lx.pos++
			parts, err := splitInterp(raw, start, interp, close)
			if err != nil {
				return token{}, lx.errorf("%v", err)
			}
			return token{kind: tStr, parts: parts}, nil
		}
		lx.pos++
	}
}

// skipBraces returns the offset just past the "}" matching the "{" at i,
// skipping strings inside.
func skipBraces(s string, i int) (int, error) {
	depth := 0
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '\\':
			i++
		case '"', '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
	return 0, errString("unclosed #{ in string")
}

type errString string

func (e errString) Error() string { return string(e) }

// splitInterp splits the raw text of a string into parts; base is the
// offset of raw in the source. Without interp only \\ and the closing
// delimiter are escapes (single quotes, %q, %w).
func splitInterp(raw string, base int, interp bool, close byte) ([]strPart, error) {
	var parts []strPart
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, strPart{text: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			i++
			e := raw[i]
			if !interp {
				if e != '\\' && e != close {
					b.WriteByte('\\')
				}
				b.WriteByte(e)
				continue
			}
			b.WriteString(unescape(e))
		case interp && c == '#' && i+1 < len(raw) && raw[i+1] == '{':
			end, err := skipBraces(raw, i+1)
			if err != nil {
				return nil, err
			}
			flush()
			parts = append(parts, strPart{text: raw[i+2 : end-1], code: true, pos: base + i + 2})
			i = end - 1
		default:
			b.WriteByte(c)
		}
	}
	flush()
	if len(parts) == 0 {
		parts = []strPart{{text: ""}}
	}
	return parts, nil
}

func unescape(e byte) string {
	switch e {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case 's':
		return " "
	case '0':
		return "\x00"
	case 'e':
		return "\x1b"
	case 'a':
		return "\a"
	case '\n':
		return ""
	}
	return string(e)
}

var closers = map[byte]byte{'(': ')', '[': ']', '{': '}', '<': '>'}

// percent lexes %w[] %i[] %q() %Q() %().
func (lx *lexer) percent() (token, error) {
	kind := lx.peekByte(1)
	off := 2
	if !isIdentChar(kind) {
		kind, off = 'Q', 1
	}
	open := lx.peekByte(off)
	if open == 0 || isIdentChar(open) || open == ' ' || open == '\n' {
		return lx.operator()
	}
	close, ok := closers[open]
	if !ok {
		close = open
	}
	lx.pos += off + 1
	switch kind {
	case 'w', 'W', 'i', 'I':
		t, err := lx.quoted(open, close, false)
		if err != nil {
			return t, err
		}
		text := ""
		if len(t.parts) > 0 {
			text = t.parts[0].text
		}
		return token{kind: tWords, words: strings.Fields(text), text: string(kind)}, nil
	case 'q':
		return lx.quoted(open, close, false)
	case 'Q':
		return lx.quoted(open, close, true)
	case 'r':
		t, err := lx.quoted(open, close, false)
		t.kind = tRegexp
		return t, err
	}
	return token{}, lx.errorf("unknown %%-literal %%%c", kind)
}

// heredocAhead reports whether "<<" at the cursor starts a heredoc.
func (lx *lexer) heredocAhead() bool {
	i := lx.pos + 2
	if i < len(lx.src) && (lx.src[i] == '~' || lx.src[i] == '-') {
		i++
	} else if lx.valueEnded() {
		return false
	}
	if i >= len(lx.src) {
		return false
	}
	c := lx.src[i]
	return c == '"' || c == '\'' || c >= 'A' && c <= 'Z' || c == '_'
}

// heredoc lexes <<ID, <<-ID, <<~ID (quoted IDs too). Its body is on the
// lines after the current one; the lexer skips it at the next newline.
func (lx *lexer) heredoc() (token, error) {
	lx.pos += 2
	mode := byte(0)
	if c := lx.peekByte(0); c == '~' || c == '-' {
		mode = c
		lx.pos++
	}
	interp := true
	var id string
	if q := lx.peekByte(0); q == '"' || q == '\'' {
		end := strings.IndexByte(lx.src[lx.pos+1:], q)
		if end < 0 {
			return token{}, lx.errorf("unterminated heredoc name")
		}
		id = lx.src[lx.pos+1 : lx.pos+1+end]
		interp = q == '"'
		lx.pos += end + 2
	} else {
		start := lx.pos
		for lx.pos < len(lx.src) && isIdentChar(lx.src[lx.pos]) {
			lx.pos++
		}
		id = lx.src[start:lx.pos]
	}
	body := lx.resume
	if body == 0 {
		nl := strings.IndexByte(lx.src[lx.pos:], '\n')
		if nl < 0 {
			return token{}, lx.errorf("heredoc %s without a body", id)
		}
		body = lx.pos + nl + 1
	}
	lines, after, ok := heredocLines(lx.src[body:], id, mode != 0)
	if !ok {
		return token{}, lx.errorf("heredoc %s: no closing %s", id, id)
	}
	lx.resume = body + after
	if mode == '~' {
		lines = dedent(lines)
	}
	parts, err := splitInterp(strings.Join(lines, ""), body, interp, 0)
	if err != nil {
		return token{}, lx.errorf("%v", err)
	}
	return token{kind: tStr, parts: parts}, nil
}

// heredocLines returns the body lines (with their newlines) up to the
// terminator line and the offset just after it.
func heredocLines(s, id string, indented bool) ([]string, int, bool) {
	var lines []string
	off := 0
	for off < len(s) {
		nl := strings.IndexByte(s[off:], '\n')
		end := len(s)
		if nl >= 0 {
			end = off + nl + 1
		}
		line := s[off:end]
		term := strings.TrimRight(line, "\r\n")
		if indented {
			term = strings.TrimLeft(term, " \t")
		}
		if term == id {
			return lines, end, true
		}
		lines = append(lines, line)
		off = end
	}
	return nil, 0, false
}

// dedent removes the common indentation of the non-blank lines (<<~).
func dedent(lines []string) []string {
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if min < 0 || n < min {
			min = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= min && min > 0 && strings.TrimSpace(l) != "" {
			l = l[min:]
		} else if strings.TrimSpace(l) == "" {
			l = strings.TrimLeft(l, " \t")
		}
		out[i] = l
	}
	return out
}
