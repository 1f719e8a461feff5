package port

import (
	"strings"
)

// kindAliases maps Chef kinds to stackagent's where the engine lacks them.
var kindAliases = map[string]string{"apt_package": "package", "yum_package": "package", "dnf_package": "package"}

// resourceKind returns the stackagent kind a call declares, if any.
func (e *emitter) resourceKind(x *Call) (string, bool) {
	if x.Recv != nil || len(x.Args) > 1 || x.Block != nil && len(x.Block.Params) > 0 {
		return "", false
	}
	if e.schema == nil {
		return x.Name, x.Block != nil || len(x.Args) == 1 && !notKinds[x.Name]
	}
	if e.schema.Has(x.Name, "") {
		return x.Name, true
	}
	if a, ok := kindAliases[x.Name]; ok && e.schema.Has(a, "") {
		return a, true
	}
	return "", false
}

// notKinds are calls that look like resources but are DSL methods.
var notKinds = map[string]bool{"include_recipe": true, "puts": true, "raise": true, "p": true, "print": true, "require": true}

func isResource(e *emitter, n Node) bool {
	x, ok := n.(*Call)
	if !ok || x.Recv != nil {
		return false
	}
	if _, ok := e.resourceKind(x); ok {
		return true
	}
	_, def := e.defs[x.Name]
	return def || x.Block != nil && len(x.Args) == 1 && len(x.Block.Params) == 0
}

// callStmt writes a call used as a statement: a resource, a definition,
// include_recipe, a loop, or a plain call.
func (e *emitter) callStmt(x *Call) error {
	if e.mode == modeHook && x.Recv == nil && x.Name == "run" && len(x.Args) == 1 && x.Block == nil {
		v, err := e.expr(x.Args[0])
		if err != nil {
			return err
		}
		e.line("do")
		e.line("  local r = shell_out(" + v + ")")
		e.line(`  if r.exitstatus ~= 0 then error("run: exit " .. r.exitstatus .. ": " .. r.stderr) end`)
		e.line("end")
		return nil
	}
	if x.Recv == nil {
		if x.Name == "include_recipe" && len(x.Args) > 0 && x.Block == nil {
			args, err := e.exprs(x.Args)
			if err != nil {
				return err
			}
			e.line("include_recipe(" + strings.Join(args, ", ") + ")")
			return nil
		}
		if _, ok := e.defs[x.Name]; ok && len(x.Args) == 1 && (x.Block == nil || len(x.Block.Params) == 0) {
			e.uses[x.Name] = true
			return e.resource(x.Name, x)
		}
		if kind, ok := e.resourceKind(x); ok {
			return e.resource(kind, x)
		}
		if x.Block != nil && len(x.Args) == 1 && len(x.Block.Params) == 0 {
			return todo("resource kind " + x.Name + " does not exist in stackagent")
		}
	}
	if x.Block != nil && x.Recv != nil {
		return e.loop(x)
	}
	v, err := e.expr(x)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(v, ")") || strings.HasPrefix(v, "(") {
		return todo("expression used as a statement")
	}
	e.line(v)
	return nil
}

// loop writes .each / .each_with_index / .each_pair blocks as for loops.
func (e *emitter) loop(x *Call) error {
	coll, err := e.expr(x.Recv)
	if err != nil {
		return err
	}
	if len(x.Args) > 0 {
		return todo("method ." + x.Name + " with arguments")
	}
	ps := x.Block.Params
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = localName(p)
	}
	switch {
	case (x.Name == "each" || x.Name == "each_pair") && len(ps) == 2:
		// Sorted keys: Lua's pairs order changes from run to run.
		e.line("for _, " + names[0] + " in ipairs(" + e.helper("port_keys", coll) + ") do")
		e.line("  local " + names[1] + " = " + paren(coll) + "[" + names[0] + "]")
	case x.Name == "each" && len(ps) == 1:
		e.line("for _, " + names[0] + " in ipairs(" + coll + ") do")
	case x.Name == "each_with_index" && len(ps) == 2:
		e.line("for port_i, " + names[0] + " in ipairs(" + coll + ") do")
		e.line("  local " + names[1] + " = port_i - 1")
	case x.Name == "each_key" && len(ps) == 1:
		e.line("for _, " + names[0] + " in ipairs(" + e.helper("port_keys", coll) + ") do")
	case x.Name == "times" && len(ps) <= 1:
		v := "_"
		if len(ps) == 1 {
			v = names[0]
		}
		e.line("for " + v + " = 0, " + paren(coll) + " - 1 do")
	default:
		return todo("method ." + x.Name + " with a block")
	}
	e.loopBody(x.Block.Body, ps)
	e.line("end")
	return nil
}

// loopBody writes a loop's body; one that uses next is wrapped in
// repeat … until true so that next can be a break.
func (e *emitter) loopBody(body []Node, params []string) {
	saved := e.nextIsBreak
	defer func() { e.nextIsBreak = saved }()
	e.nextIsBreak = false
	if !usesNext(body) {
		e.block(body, params...)
		return
	}
	e.depth++
	e.line("repeat")
	e.nextIsBreak = true
	e.block(body, params...)
	e.line("until true")
	e.depth--
}

// usesNext reports whether a loop body holds next outside nested loops.
func usesNext(ns []Node) bool {
	for _, n := range ns {
		switch x := n.(type) {
		case *Ctrl:
			if x.Kw == "next" {
				return true
			}
		case *If:
			if usesNext(x.Then) || usesNext(x.Else) {
				return true
			}
		case *Case:
			for _, w := range x.Whens {
				if usesNext(w.Body) {
					return true
				}
			}
			if usesNext(x.Else) {
				return true
			}
		}
	}
	return false
}

// resource writes kind "name" { props } (or kind(expr) { … }).
func (e *emitter) resource(kind string, x *Call) error {
	head, err := e.resourceHead(kind, x)
	if err != nil {
		return err
	}
	if x.Block == nil || len(x.Block.Body) == 0 {
		if len(x.Args) == 0 {
			return todo("resource without a name")
		}
		if _, def := e.defs[kind]; def {
			head += " {}"
		}
		e.line(head)
		e.stats.Resources++
		e.stats.ResourcesClean++
		return nil
	}
	b := e.resourceBlock(kind, x.Block.Body)
	e.line(head + " {")
	e.depth++
	for _, name := range b.order {
		vals := b.props[name]
		v := vals[len(vals)-1]
		if len(vals) > 1 && (name == "notifies" || name == "subscribes" || name == "only_if" || name == "not_if") {
			v = "{ " + strings.Join(vals, ", ") + " }"
		}
		e.line(key(name) + " = " + v + ",")
	}
	for i, st := range b.todos {
		e.todoAt(st, b.whys[i])
	}
	for _, name := range b.shells {
		e.stats.Todos["shell string built from values"]++
		e.line("-- TODO(port): shell string built from values (" + name + "): pass a list (argv) or check each value with validate.*")
	}
	e.depth--
	e.line("}")
	e.stats.Resources++
	if len(b.todos) == 0 && len(b.shells) == 0 {
		e.stats.ResourcesClean++
	}
	return nil
}

// resourceHead is kind "name" for a literal name, kind(expr) otherwise,
// kind alone without one.
func (e *emitter) resourceHead(kind string, x *Call) (string, error) {
	if len(x.Args) != 1 {
		return kind, nil
	}
	name, err := e.expr(x.Args[0])
	if err != nil {
		return "", err
	}
	if isQuoted(name) {
		return kind + " " + name, nil
	}
	return kind + "(" + name + ")", nil
}

// resBlock is a resource block read by resourceBlock: the values of each
// property (in first-seen order), the lines it could not translate (and
// why), and the properties built as shell strings.
type resBlock struct {
	props  map[string][]string
	order  []string
	todos  []Node
	whys   []string
	shells []string
}

func (e *emitter) resourceBlock(kind string, body []Node) *resBlock {
	b := &resBlock{props: map[string][]string{}}
	for _, st := range body {
		name, val, err := e.property(kind, st)
		if err != nil {
			b.todos = append(b.todos, st)
			b.whys = append(b.whys, err.Error())
			continue
		}
		if shellBuilt(st) {
			b.shells = append(b.shells, name)
		}
		if _, seen := b.props[name]; !seen {
			b.order = append(b.order, name)
		}
		b.props[name] = append(b.props[name], val)
	}
	return b
}

// property translates one line of a resource block.
func (e *emitter) property(kind string, st Node) (string, string, error) {
	c, ok := st.(*Call)
	if !ok || c.Recv != nil {
		return "", "", todo("statement in a resource block")
	}
	if e.schema != nil && !commonProps[c.Name] && e.defs[kind] == "" && !e.schema.Has(kind, c.Name) {
		return "", "", todo("property " + c.Name + " of " + kind + " does not exist in stackagent")
	}
	switch c.Name {
	case "only_if", "not_if":
		v, err := e.guard(c)
		return c.Name, v, err
	case "notifies", "subscribes":
		v, err := e.notification(c)
		return c.Name, v, err
	}
	if c.Block != nil {
		return "", "", todo("block given to " + c.Name)
	}
	args, err := e.exprs(c.Args)
	if err != nil {
		return "", "", err
	}
	switch len(args) {
	case 0:
		return "", "", todo("property " + c.Name + " without a value")
	case 1:
		return c.Name, args[0], nil
	}
	return c.Name, table(args), nil
}

var commonProps = map[string]bool{
	"action": true, "only_if": true, "not_if": true, "notifies": true, "subscribes": true,
	"ignore_failure": true, "retries": true, "retry_delay": true, "sensitive": true,
}

// guard translates only_if/not_if: a string command, or a simple block
// as a Lua function.
func (e *emitter) guard(c *Call) (string, error) {
	if c.Block != nil {
		if len(c.Args) > 0 || len(c.Block.Body) != 1 {
			return "", todo("guard block with several statements")
		}
		v, err := e.expr(c.Block.Body[0])
		if err != nil {
			return "", todo("guard block: " + err.Error())
		}
		return "function() return " + v + " end", nil
	}
	if len(c.Args) != 1 {
		return "", todo("guard with options")
	}
	return e.expr(c.Args[0])
}

// notification translates notifies :action, 'kind[name]', :timing
// (resources(kind: 'name') too).
func (e *emitter) notification(c *Call) (string, error) {
	if len(c.Args) < 2 || len(c.Args) > 3 {
		return "", todo("notification with " + string(rune('0'+len(c.Args))) + " arguments")
	}
	var parts []string
	for i, a := range c.Args {
		if r, ok := a.(*Call); ok && i == 1 && r.Name == "resources" && r.Recv == nil && len(r.Args) == 1 {
			if h, ok := r.Args[0].(*Hash); ok && len(h.Keys) == 1 {
				k, ok1 := literalKey(h.Keys[0])
				n, err := e.expr(h.Vals[0])
				if !ok1 || err != nil {
					return "", todo("notification target")
				}
				parts = append(parts, quote(k+"[")+" .. "+n+" .. "+quote("]"))
				continue
			}
		}
		v, err := e.expr(a)
		if err != nil {
			return "", err
		}
		parts = append(parts, v)
	}
	return table(parts), nil
}

// shellBuilt reports whether a command, code or guard property is a shell
// string with values interpolated: under Chef as here, a value holding
// $(…) or ; runs as root.
func shellBuilt(st Node) bool {
	c, ok := st.(*Call)
	if !ok || len(c.Args) != 1 || c.Block != nil {
		return false
	}
	switch c.Name {
	case "command", "code", "only_if", "not_if":
	default:
		return false
	}
	switch a := c.Args[0].(type) {
	case *Str:
		for _, seg := range a.Segs {
			if seg.Expr != nil {
				return true
			}
		}
	case *Binary:
		return isStrNode(a)
	}
	return false
}
