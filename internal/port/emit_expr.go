package port

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
)

// todoError is an expression the emitter cannot translate; the statement
// holding it becomes a TODO with the original Ruby.
type todoError struct{ reason string }

func (e *todoError) Error() string { return e.reason }

func todo(reason string) error { return &todoError{reason} }

// mode says what a file is, for the names only some files have.
type mode int

const (
	modeRecipe mode = iota
	modeAttributes
	modeTemplate
	modeDefinition
	modeHook
	modeResource
)

var luaIdent = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true,
	"nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true,
	"true": true, "until": true, "while": true, "goto": true,
}

// localName is a Ruby local as a Lua name.
func localName(s string) string {
	if luaKeywords[s] {
		return s + "_"
	}
	return s
}

// quote is s as a Lua string literal (control bytes as \ddd).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(fmt.Sprintf("\\%03d", c))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// key is a table key: name = or ["text"] =.
func key(s string) string {
	if luaIdent().MatchString(s) && !luaKeywords[s] {
		return s
	}
	return "[" + quote(s) + "]"
}

// field is x.name or x["name"].
func field(x, s string) string {
	x = prefix(x)
	if luaIdent().MatchString(s) && !luaKeywords[s] {
		return x + "." + s
	}
	return x + "[" + quote(s) + "]"
}

// literalKey is the text of a symbol or plain string key.
func literalKey(n Node) (string, bool) {
	switch k := n.(type) {
	case *Sym:
		return k.Name, true
	case *Str:
		if len(k.Segs) == 1 && k.Segs[0].Expr == nil {
			return k.Segs[0].Text, true
		}
	case *Interp:
		return literalKey(k.X)
	}
	return "", false
}

func (e *emitter) exprs(ns []Node) ([]string, error) {
	out := make([]string, len(ns))
	for i, n := range ns {
		s, err := e.expr(n)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// expr translates an expression to Lua.
func (e *emitter) expr(n Node) (string, error) {
	switch x := n.(type) {
	case *Str:
		return e.str(x)
	case *Sym:
		return quote(x.Name), nil
	case *Num:
		return num(x)
	case *Lit:
		if x.Name == "self" {
			return "", todo("self")
		}
		return x.Name, nil
	case *Words:
		items := make([]string, len(x.Items))
		for i, w := range x.Items {
			items[i] = quote(w)
		}
		return table(items), nil
	case *Array:
		items, err := e.exprs(x.Elems)
		return table(items), err
	case *Hash:
		return e.hash(x)
	case *Var:
		return localName(x.Name), nil
	case *IVar:
		if e.mode == modeTemplate {
			return localName(x.Name), nil
		}
		return "", todo("instance variable @" + x.Name)
	case *Interp:
		return e.expr(x.X)
	case *Index:
		return e.index(x)
	case *Call:
		return e.call(x)
	case *Binary:
		return e.binary(x)
	case *Unary:
		return e.unary(x)
	case *Ternary:
		parts, err := e.exprs([]Node{x.C, x.A, x.B})
		if err != nil {
			return "", err
		}
		return "(" + parts[0] + " and " + paren(parts[1]) + " or " + paren(parts[2]) + ")", nil
	case *Todo:
		return "", todo(x.Reason)
	case *Regexp:
		return "", todo("regular expression")
	case *Range:
		return "", todo("range")
	case *Const:
		return "", todo("constant " + joinNames(x.Names))
	}
	return "", todo("expression")
}

// num translates a number; one with a leading 0 (0644) is a mode and
// stays text.
func num(x *Num) (string, error) {
	t := strings.ReplaceAll(x.Text, "_", "")
	if len(t) > 1 && t[0] == '0' && t[1] >= '0' && t[1] <= '7' {
		return quote(t), nil // 0644: a mode, as text
	}
	if i, err := strconv.ParseInt(t, 0, 64); err == nil {
		return strconv.FormatInt(i, 10), nil // 0x1f, 0b101
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil && !strings.ContainsAny(t, "xXbBoO") {
		return t, nil
	}
	return "", todo("number " + t)
}

// unary translates !x and -x.
func (e *emitter) unary(x *Unary) (string, error) {
	v, err := e.expr(x.X)
	if x.Op == "!" {
		return "not " + paren(v), err
	}
	if x.Op == "-" {
		return "-" + paren(v), err
	}
	return "", todo("operator " + x.Op)
}

func table(items []string) string {
	if len(items) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(items, ", ") + " }"
}

// paren wraps s unless it is one simple term.
func paren(s string) string {
	if luaIdent().MatchString(strings.NewReplacer(".", "", "[", "", "]", "", "\"", "").Replace(s)) || isQuoted(s) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "(" + s + ")"
}

func isQuoted(s string) bool {
	return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.Contains(s[1:len(s)-1], `"`)
}

func (e *emitter) str(x *Str) (string, error) {
	var parts []string
	for _, s := range x.Segs {
		if s.Expr == nil {
			if s.Text != "" || len(x.Segs) == 1 {
				parts = append(parts, quote(s.Text))
			}
			continue
		}
		v, err := e.expr(s.Expr)
		if err != nil {
			return "", err
		}
		if _, lit := s.Expr.(*Interp); lit {
			if _, isStr := s.Expr.(*Interp).X.(*Str); !isStr {
				v = "tostring(" + v + ")"
			}
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return `""`, nil
	}
	return strings.Join(parts, " .. "), nil
}

func (e *emitter) hash(x *Hash) (string, error) {
	items := make([]string, len(x.Keys))
	for i := range x.Keys {
		v, err := e.expr(x.Vals[i])
		if err != nil {
			return "", err
		}
		if k, ok := literalKey(x.Keys[i]); ok {
			items[i] = key(k) + " = " + v
			continue
		}
		k, err := e.expr(x.Keys[i])
		if err != nil {
			return "", err
		}
		items[i] = "[" + k + "] = " + v
	}
	return table(items), nil
}

// index translates recv[k]: node paths become node.a.b, a literal
// integer index is 1-based in Lua.
func (e *emitter) index(x *Index) (string, error) {
	if len(x.Args) != 1 {
		return "", todo("index with several arguments")
	}
	if path, ok := nodePath(x); ok {
		if mapped, ok, err := e.opsworks(path); ok || err != nil {
			return mapped, err
		}
	}
	r, err := e.expr(x.Recv)
	if err != nil {
		return "", err
	}
	if k, ok := literalKey(x.Args[0]); ok {
		return field(r, k), nil
	}
	if num, ok := x.Args[0].(*Num); ok {
		i, err := strconv.Atoi(num.Text)
		if err != nil {
			return "", todo("index " + num.Text)
		}
		r = prefix(r)
		if i < 0 {
			return r + "[#" + r + " + " + strconv.Itoa(i+1) + "]", nil
		}
		return r + "[" + strconv.Itoa(i+1) + "]", nil
	}
	k, err := e.expr(x.Args[0])
	return prefix(r) + "[" + k + "]", err
}

// nodePath returns the literal keys of node[:a][:b]… (or node.a.b).
func nodePath(n Node) ([]string, bool) {
	switch x := n.(type) {
	case *Call:
		if x.Recv == nil && x.Name == "node" && len(x.Args) == 0 && x.Block == nil {
			return nil, true
		}
		if x.Recv != nil && len(x.Args) == 0 && x.Block == nil && luaIdent().MatchString(x.Name) {
			p, ok := nodePath(x.Recv)
			return append(p, x.Name), ok
		}
	case *Index:
		if len(x.Args) == 1 {
			if k, ok := literalKey(x.Args[0]); ok {
				p, isNode := nodePath(x.Recv)
				return append(p, k), isNode
			}
		}
	}
	return nil, false
}

// opsworksMap maps node[:opsworks] paths to stackagent's attributes
// (docs/operators.md, "node[:opsworks] in recipes").
var opsworksMap = map[string]string{
	"activity":                      "node.stackagent.event.type",
	"instance.id":                   "node.stackagent.instance.id",
	"instance.aws_instance_id":      "node.stackagent.instance.id",
	"instance.layers":               "node.stackagent.instance.layers",
	"instance.hostname":             "node.hostname",
	"instance.private_ip":           "node.ec2.local_ipv4",
	"instance.ip":                   "node.ec2.public_ipv4",
	"instance.availability_zone":    "node.ec2.placement_availability_zone",
	"instance.region":               "node.ec2.region",
	"instance.instance_type":        "node.ec2.instance_type",
	"stack.name":                    "node.stackagent.instance.stack",
	"deploy_command.command":        "node.stackagent.event.command",
	"deploy_command.args":           "node.stackagent.event.rollback_to",
	"instance.architecture":         "node.kernel.machine",
	"instance.infrastructure_class": `"ec2"`,
}

// opsworks translates a node path under opsworks; ok is false for other
// paths.
func (e *emitter) opsworks(path []string) (string, bool, error) {
	m, ok, err := opsworks(path)
	if !ok || err != nil || !strings.HasPrefix(m, "node.") {
		return m, ok, err
	}
	keys := strings.Split(strings.TrimPrefix(m, "node."), ".")
	for i, k := range keys {
		keys[i] = quote(k)
	}
	// The event's and instance's attributes are there at converge, not
	// always at validate: read them without failing on a missing level.
	return e.helper("port_dig", append([]string{"node"}, keys...)...), true, nil
}

func opsworks(path []string) (string, bool, error) {
	if len(path) == 0 || path[0] != "opsworks" {
		return "", false, nil
	}
	if m, ok := opsworksMap[strings.Join(path[1:], ".")]; ok {
		return m, true, nil
	}
	return "", true, todo("node[:opsworks] " + strings.Join(path[1:], ".") + " has no stackagent equivalent")
}

// luaName reports whether s can name a Lua variable or function.
func luaName(s string) bool { return luaIdent().MatchString(s) && !luaKeywords[s] }

// prefix makes x something Lua can index or call: a name, a field or a
// call chain as it is, anything else in parentheses.
func prefix(x string) string {
	if x != "" && (x[0] == '_' || x[0] >= 'a' && x[0] <= 'z' || x[0] >= 'A' && x[0] <= 'Z') && !strings.Contains(x, " ") {
		return x
	}
	return "(" + x + ")"
}
