package port

import (
	"strings"
)

// tmpl converts one ERB template with Ruby inside to ERB with Lua inside.
type tmpl struct {
	b      strings.Builder
	locals []string
	stack  []bool // per open block: true when its opener became a TODO
	stats  Stats
	helper map[string]bool
	lines  map[int]bool // template lines holding code → converted without TODO
	line   int
}

// Template converts an ERB template: @var → var, node[:a][:b] → node.a.b,
// .each blocks → for loops, if/unless/elsif/else/end, and the methods
// expressions take (join, include?, empty?, nil?…). A tag it cannot
// convert becomes <%# TODO(port): reason: ruby %> (and the matching end a
// comment too), so the output always compiles.
func Template(src string) (string, Stats) {
	t := &tmpl{helper: map[string]bool{}, lines: map[int]bool{}, line: 1, stats: Stats{Todos: map[string]int{}}}
	for {
		i := indexTag(src)
		if i < 0 {
			t.b.WriteString(src)
			break
		}
		t.b.WriteString(src[:i])
		t.line += strings.Count(src[:i], "\n")
		end := strings.Index(src[i+2:], "%>")
		if end < 0 {
			t.b.WriteString(src[i:])
			t.todo("unclosed <% tag")
			break
		}
		tag := src[i+2 : i+2+end]
		t.tag(tag)
		t.line += strings.Count(tag, "\n")
		src = src[i+2+end+2:]
	}
	for _, clean := range t.lines {
		t.stats.TemplateLines++
		if clean {
			t.stats.TemplateClean++
		}
	}
	var top []string
	for _, h := range helperOrder {
		if t.helper[h] {
			top = append(top, helpers[h])
		}
	}
	out := t.b.String()
	if len(top) > 0 {
		out = "<% " + strings.Join(top, " ") + " %>" + out
	}
	return out, t.stats
}

func indexTag(s string) int {
	off := 0
	for {
		i := strings.Index(s[off:], "<%")
		if i < 0 {
			return -1
		}
		i += off
		if strings.HasPrefix(s[i:], "<%%") {
			off = i + 3
			continue
		}
		return i
	}
}

func (t *tmpl) todo(why string) {
	t.stats.Todos[reason(why)]++
	t.lines[t.line] = false
}

func (t *tmpl) mark() {
	if _, seen := t.lines[t.line]; !seen {
		t.lines[t.line] = true
	}
}

// tag converts the inside of one <% … %>.
func (t *tmpl) tag(tag string) {
	lead, trail := "", ""
	code := tag
	if strings.HasPrefix(code, "-") {
		lead, code = "-", code[1:]
	}
	if strings.HasSuffix(code, "-") {
		trail, code = "-", code[:len(code)-1]
	}
	nl := strings.Repeat("\n", strings.Count(code, "\n"))
	if strings.HasPrefix(code, "#") {
		t.b.WriteString("<%" + lead + code + trail + "%>")
		return
	}
	t.mark()
	lua, ok := t.convert(code)
	if !ok {
		t.b.WriteString("<%" + lead + "# " + lua + nl + " " + trail + "%>")
		return
	}
	t.b.WriteString("<%" + lead + lua + nl + " " + trail + "%>")
}

// convert returns the Lua for the code of a tag, or the TODO comment text.
func (t *tmpl) convert(code string) (string, bool) {
	c := strings.TrimSpace(strings.ReplaceAll(code, "\n", " "))
	fail := func(why string) (string, bool) {
		t.todo(why)
		return "TODO(port): " + oneLine(why) + ": " + strings.ReplaceAll(c, "%>", "% >"), false
	}
	if strings.HasPrefix(c, "=") {
		v, err := t.expr(strings.TrimSpace(c[1:]))
		if err != nil {
			return fail(err.Error())
		}
		return "= " + v, true
	}
	switch word, rest, _ := strings.Cut(c, " "); {
	case c == "end" || c == "}":
		return t.pop("end")
	case c == "else":
		if t.top() {
			return "(else of the TODO above)", false
		}
		return " else", true
	case word == "elsif":
		if t.top() {
			return "(elsif of the TODO above)", false
		}
		v, err := t.expr(rest)
		if err != nil {
			return fail(err.Error())
		}
		return " elseif " + v + " then", true
	case word == "if" || word == "unless":
		v, err := t.expr(rest)
		if err != nil {
			t.stack = append(t.stack, true)
			return fail(err.Error())
		}
		if word == "unless" {
			v = "not " + paren(v)
		}
		t.stack = append(t.stack, false)
		return " if " + v + " then", true
	case strings.HasSuffix(c, " do") || strings.HasSuffix(c, "{") ||
		(strings.Contains(c, " do |") || strings.Contains(c, "{ |")) && strings.HasSuffix(c, "|"):
		return t.opener(c)
	}
	lua, err := t.stmts(c)
	if err != nil {
		return fail(err.Error())
	}
	return " " + lua, true
}

func (t *tmpl) top() bool { return len(t.stack) > 0 && t.stack[len(t.stack)-1] }

func (t *tmpl) pop(kw string) (string, bool) {
	if len(t.stack) == 0 {
		t.todo("end without an opener")
		return "TODO(port): end without an opener", false
	}
	skip := t.top()
	t.stack = t.stack[:len(t.stack)-1]
	if skip {
		return "(end of the TODO above)", false
	}
	return " " + kw, true
}

// opener converts "x.each do |a|": the loop header, its end comes later.
func (t *tmpl) opener(c string) (string, bool) {
	src := c + "\nend\n"
	if strings.HasSuffix(c, "{") || strings.Contains(c, "{ |") {
		src = c + "\n}\n"
	}
	e := t.emitter(src)
	nodes := parseWith(src, t.locals)
	if call, ok := firstCall(nodes); ok && call.Block != nil {
		t.locals = append(t.locals, call.Block.Params...)
		if err := e.loop(call); err == nil {
			out := strings.TrimSpace(e.b.String())
			out = strings.TrimSpace(strings.TrimSuffix(out, "end"))
			t.stack = append(t.stack, false)
			return " " + strings.ReplaceAll(out, "\n", " "), true
		} else {
			t.stack = append(t.stack, true)
			t.todo(err.Error())
			return "TODO(port): " + oneLine(err.Error()) + ": " + c, false
		}
	}
	t.stack = append(t.stack, true)
	t.todo("block")
	return "TODO(port): block: " + c, false
}

func firstCall(ns []Node) (*Call, bool) {
	if len(ns) != 1 {
		return nil, false
	}
	c, ok := ns[0].(*Call)
	return c, ok
}

func (t *tmpl) emitter(src string) *emitter {
	e := newEmitter(src, modeTemplate, nil, nil)
	e.helpers = t.helper
	for _, l := range t.locals {
		e.scopes[0][l] = true
	}
	return e
}

func (t *tmpl) expr(code string) (string, error) {
	nodes := parseWith(code, t.locals)
	if len(nodes) != 1 {
		return "", todo("several statements")
	}
	return t.emitter(code).expr(nodes[0])
}

// stmts converts plain statements (x = 1) to one line of Lua.
func (t *tmpl) stmts(code string) (string, error) {
	nodes := parseWith(code, t.locals)
	e := t.emitter(code)
	for _, n := range nodes {
		if err := e.try(n); err != nil {
			return "", err
		}
		if a, ok := n.(*Assign); ok {
			if v, ok := a.Target.(*Var); ok {
				t.locals = append(t.locals, v.Name)
			}
		}
	}
	return strings.ReplaceAll(strings.TrimSpace(e.b.String()), "\n", " "), nil
}
