package recipes

import (
	"context"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Templates use ERB syntax with Lua inside:
//
//	<%= expr %>   the value of a Lua expression
//	<% code %>    Lua statements (if … then / for … do / end)
//	<%# text %>   a comment
//	<%% and %%>   a literal <% and %>
//	-%>           drops the newline that follows the tag
//	<%-           drops the spaces and tabs before the tag on its line
//
// The resource's variables are names in scope, and so is node; Lua's
// globals (string, table, math…) are reachable, and lines in errors are
// the template's own.

type compiledTemplate struct {
	fn   *lua.LFunction
	name string
}

// compileERB translates an ERB template to a Lua chunk that returns the
// rendered text. Newlines are kept so that Lua's line numbers are the
// template's.
func compileERB(src string) (string, error) {
	var b strings.Builder
	b.WriteString(erbPrologue)
	line := 1
	for {
		i := indexTag(src)
		if i < 0 {
			erbText(&b, src)
			break
		}
		before, rest := splitTag(src, i)
		erbText(&b, before)
		line += strings.Count(src[:i], "\n")
		end := strings.Index(rest, "%>")
		if end < 0 {
			return "", fmt.Errorf("line %d: unclosed <%% tag", line)
		}
		code := rest[:end]
		src = erbTag(&b, code, rest[end+2:])
		line += strings.Count(code, "\n")
	}
	b.WriteString(" return table.concat(__o)")
	return b.String(), nil
}

// erbPrologue starts a compiled template: __w appends to the output,
// __e turns a value into its text (nil: none).
const erbPrologue = "local __o = {} local __n = 0 local function __w(v) __n = __n + 1 __o[__n] = v end local function __e(v) if v == nil then return '' end return tostring(v) end "

// erbText writes the Lua that outputs literal text s ("<%%" and "%%>"
// unescaped), and its newlines.
func erbText(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "<%%", "<%"), "%%>", "%>")
	b.WriteString("__w(")
	b.WriteString(luaQuote(s))
	b.WriteString(") ")
	b.WriteString(strings.Repeat("\n", strings.Count(s, "\n")))
}

// splitTag splits src at the tag at i into the text before it and what
// follows "<%"; "<%-" drops the spaces and tabs before the tag on its line.
func splitTag(src string, i int) (before, rest string) {
	before, rest = src[:i], src[i+2:]
	if strings.HasPrefix(rest, "-") {
		rest = rest[1:]
		if j := strings.LastIndexByte(before, '\n'); strings.TrimLeft(before[j+1:], " \t") == "" {
			before = before[:j+1]
		}
	}
	return before, rest
}

// erbTag writes the Lua of one tag's code (an expression, a comment or
// statements) and returns the source after the tag; "-%>" drops the
// newline that follows.
func erbTag(b *strings.Builder, code, rest string) string {
	if strings.HasSuffix(code, "-") {
		code = code[:len(code)-1]
		if strings.HasPrefix(rest, "\r\n") {
			rest = rest[2:]
			b.WriteString("\n")
		} else if strings.HasPrefix(rest, "\n") {
			rest = rest[1:]
			b.WriteString("\n")
		}
	}
	switch {
	case strings.HasPrefix(code, "="):
		b.WriteString("__w(__e(")
		b.WriteString(code[1:])
		b.WriteString(")) ")
	case strings.HasPrefix(code, "#"):
	default:
		b.WriteString(code)
		b.WriteString(" ")
	}
	b.WriteString(strings.Repeat("\n", strings.Count(code, "\n")))
	return rest
}

// luaQuote quotes s as a Lua string literal that reads back as the same
// bytes: Go's strconv.Quote escapes (\x, \u) are not Lua 5.1's, so
// control bytes are written as 3-digit decimal escapes and every other
// byte (UTF-8 included) as is.
func luaQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// indexTag finds the next "<%" that is not the escape "<%%".
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

// Render renders a template of a cookbook (templates/ dir, looked up as
// CookbookFile does) with variables and node in scope.
func (rc *RunContext) Render(ctx context.Context, cookbook, source string, vars map[string]any) (string, error) {
	t, err := rc.template(cookbook, source)
	if err != nil {
		return "", err
	}
	return rc.rt.render(ctx, t, vars)
}

// CheckTemplate finds and compiles a cookbook template without rendering
// it, so a missing template or an ERB/Lua syntax error is caught at
// compile time (a Kind's Validate hook calls it).
func (rc *RunContext) CheckTemplate(cookbook, source string) error {
	_, err := rc.template(cookbook, source)
	return err
}

func (rc *RunContext) template(cookbook, source string) (*compiledTemplate, error) {
	key := cookbook + "\x00" + source
	t, ok := rc.tmpl[key]
	if !ok {
		src, name, err := rc.CookbookFile(cookbook, "templates", source)
		if err != nil {
			return nil, err
		}
		if t, err = rc.rt.compileTemplate(string(src), name); err != nil {
			return nil, err
		}
		if rc.tmpl == nil {
			rc.tmpl = map[string]*compiledTemplate{}
		}
		rc.tmpl[key] = t
	}
	return t, nil
}

// RenderString renders template text given inline (name is used in errors).
func (rc *RunContext) RenderString(ctx context.Context, name, src string, vars map[string]any) (string, error) {
	t, err := rc.rt.compileTemplate(src, name)
	if err != nil {
		return "", err
	}
	return rc.rt.render(ctx, t, vars)
}

func (rt *runtime) compileTemplate(src, name string) (*compiledTemplate, error) {
	code, err := compileERB(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fn, err := compiledChunks.load(rt.L, code, name)
	if err != nil {
		return nil, atEOF(luaError(err), src)
	}
	return &compiledTemplate{fn: fn, name: name}, nil
}

func (rt *runtime) render(ctx context.Context, t *compiledTemplate, vars map[string]any) (string, error) {
	L := rt.L
	env := L.CreateTable(0, len(vars)+1)
	for k, v := range vars {
		env.RawSetString(k, toLua(L, v))
	}
	env.RawSetString("node", L.G.Global.RawGetString("node"))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.G.Global)
	L.SetMetatable(env, mt)
	fn := L.NewFunctionFromProto(t.fn.Proto)
	fn.Env = env
	out, err := rt.call(ctx, &LuaFunc{fn: fn, src: Pos{File: t.name}})
	if err != nil {
		return "", fmt.Errorf("render %s: %w", t.name, err)
	}
	s, _ := out.(string)
	return s, nil
}
