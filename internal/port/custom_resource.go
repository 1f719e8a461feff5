package port

import (
	"fmt"
	"strings"
)

// Resource converts a custom resource (resources/NAME.rb: property,
// default_action, action blocks) to a Lua function KIND(name)(params),
// called from a recipe as KIND "name" { … } like a definition: stackagent
// has no Lua custom resources yet, so the inner resources join the
// calling recipe's collection, and the outer one cannot be notified.
func Resource(src, file, kind string, schema Schema, defs map[string]string) (string, Stats) {
	e := newEmitter(src, modeResource, schema, defs)
	cr := e.scanResource(src)
	e.resourceFunc(kind, cr)
	head := fmt.Sprintf(header, file) + "-- Custom resource " + kind + " as a function: call it from a recipe as " + kind + " \"name\" { … }.\nlocal M = {}\n"
	return e.finish(head), e.stats
}

// customRes is what scanResource reads of a custom resource.
type customRes struct {
	defaults, nameProps, actions []string
	bodies                       []*Call // the action blocks, as actions
	defaultAction                string
}

// scanResource reads the properties, default action and action blocks
// of a custom resource; anything else is a TODO.
func (e *emitter) scanResource(src string) *customRes {
	cr := &customRes{}
	for _, n := range Parse(src) {
		c, ok := n.(*Call)
		if !ok || c.Recv != nil {
			e.todoAt(n, "statement in a custom resource")
			continue
		}
		switch {
		case (c.Name == "property" || c.Name == "attribute") && len(c.Args) >= 1 && c.Block == nil:
			d, nameProp, err := e.property1(c)
			if err != nil {
				e.todoAt(n, err.Error())
				continue
			}
			if d != "" {
				cr.defaults = append(cr.defaults, d)
			}
			if nameProp != "" {
				cr.nameProps = append(cr.nameProps, nameProp)
			}
		case c.Name == "default_action" && len(c.Args) == 1:
			if a, ok := literalKey(c.Args[0]); ok {
				cr.defaultAction = a
			}
		case c.Name == "action" && len(c.Args) == 1 && c.Block != nil:
			a, ok := literalKey(c.Args[0])
			if !ok {
				e.todoAt(n, "action name")
				continue
			}
			cr.actions = append(cr.actions, a)
			cr.bodies = append(cr.bodies, c)
		case c.Name == "resource_name" || c.Name == "provides" || c.Name == "unified_mode" || c.Name == "actions":
		default:
			e.todoAt(n, "custom resource "+c.Name)
		}
	}
	if cr.defaultAction == "" && len(cr.actions) > 0 {
		cr.defaultAction = cr.actions[0]
	}
	return cr
}

// resourceFunc emits M.KIND(name)(args): the parameters with their
// defaults, then each action in turn.
func (e *emitter) resourceFunc(kind string, cr *customRes) {
	e.line("function M." + kind + "(name)")
	e.line("  return function(args)")
	e.line("    local params = " + table(cr.defaults))
	e.line("    for k, v in pairs(args or {}) do params[k] = v end")
	e.line("    params.name = name")
	for _, p := range cr.nameProps {
		e.line("    if " + field("params", p) + " == nil then " + field("params", p) + " = name end")
	}
	e.line("    local todo = params.action or " + quote(cr.defaultAction))
	e.line("    if type(todo) ~= \"table\" then todo = { todo } end")
	e.line("    for _, action in ipairs(todo) do")
	e.depth += 3
	for i, a := range cr.actions {
		kw := "elseif"
		if i == 0 {
			kw = "if"
		}
		e.line(kw + " action == " + quote(a) + " then")
		e.block(cr.bodies[i].Block.Body)
	}
	if len(cr.actions) > 0 {
		e.line(`elseif action ~= "nothing" then`)
	} else {
		e.line(`if action ~= "nothing" then`)
	}
	e.line(`  error("` + kind + `[" .. tostring(name) .. "]: unknown action " .. tostring(action))`)
	e.line("end")
	e.depth -= 3
	e.line("    end")
	e.line("  end")
	e.line("end")
	e.line("return M")
}

// property1 reads property :name, Type, default: v, name_property: true.
func (e *emitter) property1(c *Call) (string, string, error) {
	name, ok := literalKey(c.Args[0])
	if !ok || !luaIdent().MatchString(name) {
		return "", "", todo("property name")
	}
	e.props[name] = true
	var opts *Hash
	if h, ok := c.Args[len(c.Args)-1].(*Hash); ok {
		opts = h
	}
	def, nameProp := "", ""
	if opts == nil {
		return "", "", nil
	}
	for i, k := range opts.Keys {
		switch opt, _ := literalKey(k); opt {
		case "default":
			v, err := e.expr(opts.Vals[i])
			if err != nil {
				return "", "", err
			}
			def = key(name) + " = " + v
		case "name_property", "name_attribute":
			if l, ok := opts.Vals[i].(*Lit); ok && l.Name == "true" {
				nameProp = name
			}
		}
	}
	return def, nameProp, nil
}

// resourceKinds maps the custom resources of a cookbook's resources/ to
// their kind (COOKBOOK_NAME, as Chef names them) and Lua module.
func resourceKind(cookbook, file string) (kind, module string, ok bool) {
	base := strings.TrimSuffix(file, ".rb")
	if !luaIdent().MatchString(base) || !luaIdent().MatchString(cookbook) {
		return "", "", false
	}
	return cookbook + "_" + base, "resource_" + base, true
}
