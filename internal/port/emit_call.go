package port

import (
	"strings"
)

// helpers are small Lua functions emitted at the top of a file that uses
// them (Ruby methods with no one-line Lua equivalent).
var helpers = map[string]string{
	"port_include": `local function port_include(t, v) if type(t) == "string" then return string.find(t, v, 1, true) ~= nil end if t == nil then return false end for k, x in pairs(t) do if x == v or k == v then return true end end return false end`,
	"port_empty":   `local function port_empty(t) if t == nil or t == "" then return true end if type(t) == "string" then return false end return next(t) == nil end`,
	"port_strip":   `local function port_strip(s) return (tostring(s):gsub("^%s+", ""):gsub("%s+$", "")) end`,
	"port_keys":    `local function port_keys(t) local ks = {} if t == nil then return ks end for k in pairs(t) do ks[#ks + 1] = k end table.sort(ks) return ks end`,
	"port_starts":  `local function port_starts(s, p) return string.sub(s, 1, #p) == p end`,
	"port_dig":     `local function port_dig(t, ...) for _, k in ipairs({ ... }) do if t == nil then return nil end t = t[k] end return t end`,
}

var helperOrder = []string{"port_include", "port_empty", "port_strip", "port_keys", "port_starts", "port_dig"}

func (e *emitter) helper(name string, args ...string) string {
	e.helpers[name] = true
	return name + "(" + strings.Join(args, ", ") + ")"
}

// call translates a method call used as a value.
func (e *emitter) call(x *Call) (string, error) {
	if x.Block != nil && x.Recv != nil && (x.Name == "map" || x.Name == "collect") && len(x.Args) == 0 {
		return e.mapBlock(x)
	}
	if x.Block != nil {
		return "", todo("block passed to " + x.Name)
	}
	if x.Recv == nil {
		return e.selfCall(x)
	}
	if c, ok := x.Recv.(*Const); ok {
		return e.constCall(c, x)
	}
	if r, ok := x.Recv.(*Call); ok && e.mode == modeResource && r.Recv == nil && r.Name == "new_resource" && len(x.Args) == 0 && len(r.Args) == 0 {
		return field("params", x.Name), nil
	}
	if path, ok := nodePath(x); ok {
		if m, ok, err := e.opsworks(path); ok || err != nil {
			return m, err
		}
	}
	r, err := e.expr(x.Recv)
	if err != nil {
		return "", err
	}
	args, err := e.exprs(x.Args)
	if err != nil {
		return "", err
	}
	if s, ok := e.method(r, x.Name, args); ok {
		return s, nil
	}
	if len(x.Args) == 0 && luaIdent().MatchString(x.Name) {
		if _, isNode := nodePath(x.Recv); isNode || e.mode == modeTemplate {
			return e.nodeField(r, x.Name), nil
		}
	}
	return "", todo("method ." + x.Name)
}

// nodeField reads an attribute (node.default → node.default; node.set →
// node.normal).
func (e *emitter) nodeField(r, name string) string {
	if r == "node" && name == "set" {
		return "node.normal"
	}
	return field(r, name)
}

// method translates the Ruby methods that have a Lua counterpart.
func (e *emitter) method(r, name string, a []string) (string, bool) {
	switch {
	case name == "join" && len(a) <= 1:
		sep := `""`
		if len(a) == 1 {
			sep = a[0]
		}
		return "table.concat(" + r + ", " + sep + ")", true
	case (name == "include?" || name == "key?" || name == "has_key?" || name == "member?") && len(a) == 1:
		return e.helper("port_include", r, a[0]), true
	case name == "empty?" && len(a) == 0:
		return e.helper("port_empty", r), true
	case name == "nil?" && len(a) == 0:
		return "(" + r + " == nil)", true
	case name == "to_s" && len(a) == 0:
		return "tostring(" + r + ")", true
	case (name == "to_i" || name == "to_f") && len(a) == 0:
		return "tonumber(" + r + ")", true
	case name == "to_sym" && len(a) == 0:
		return r, true
	case name == "upcase" && len(a) == 0:
		return "string.upper(" + r + ")", true
	case name == "downcase" && len(a) == 0:
		return "string.lower(" + r + ")", true
	case (name == "strip" || name == "chomp") && len(a) == 0:
		return e.helper("port_strip", r), true
	case (name == "length" || name == "size" || name == "count") && len(a) == 0:
		return "#" + paren(r), true
	case name == "first" && len(a) == 0:
		return prefix(r) + "[1]", true
	case name == "last" && len(a) == 0:
		return prefix(r) + "[#" + prefix(r) + "]", true
	case name == "keys" && len(a) == 0:
		return e.helper("port_keys", r), true
	case name == "start_with?" && len(a) == 1:
		return e.helper("port_starts", r, a[0]), true
	case name == "any?" && len(a) == 0:
		return "not " + e.helper("port_empty", r), true
	}
	return "", false
}

// selfCall translates a call without a receiver used as a value.
func (e *emitter) selfCall(x *Call) (string, error) {
	args, err := e.exprs(x.Args)
	if err != nil {
		return "", err
	}
	call := func(fn string) (string, error) { return fn + "(" + strings.Join(args, ", ") + ")", nil }
	if e.mode == modeResource && e.props[x.Name] && len(args) == 0 {
		return field("params", x.Name), nil
	}
	if v, ok, err := e.contextName(x.Name, len(args)); ok {
		return v, err
	}
	switch x.Name {
	case "platform?":
		return call("platform_is")
	case "platform_family?":
		return call("platform_family_is")
	case "include_recipe", "data_bag", "data_bag_item", "file_exists", "cookbook_name", "recipe_name":
		if len(args) == 0 {
			return x.Name, nil
		}
		return call(x.Name)
	case "raise", "fail":
		return call("error")
	case "puts", "p", "print":
		return call("print")
	case "format", "sprintf":
		return call("string.format")
	case "system":
		if len(args) == 1 {
			return "(shell_out(" + args[0] + ").exitstatus == 0)", nil
		}
		return "(shell_out({ " + strings.Join(args, ", ") + " }).exitstatus == 0)", nil
	case "shell_out", "shell_out!":
		if len(args) == 1 {
			return "shell_out(" + args[0] + ")", nil
		}
	case "search":
		return "", todo("search (no search helper: put the peers in the stack JSON)")
	case "lazy":
		return "", todo("lazy value")
	}
	if len(args) == 0 && x.Block == nil {
		return "", todo("unknown name " + x.Name)
	}
	return "", todo("unknown method " + x.Name)
}

// contextName translates the names that mean something in a mode: node,
// the attribute levels, a definition's params, a deploy hook's paths. ok
// is false for any other name (or these with nargs arguments).
func (e *emitter) contextName(name string, nargs int) (string, bool, error) {
	switch name {
	case "node":
		if nargs == 0 {
			return "node", true, nil
		}
	case "default", "normal", "override", "set":
		if nargs == 0 {
			lvl := name
			if lvl == "set" {
				lvl = "normal"
			}
			if e.mode == modeAttributes {
				return lvl, true, nil
			}
			return "node." + lvl, true, nil
		}
	case "params":
		if e.mode == modeDefinition && nargs == 0 {
			return "params", true, nil
		}
	case "release_path", "shared_path", "deploy_to", "current_release":
		if e.mode == modeHook && nargs == 0 {
			if name == "current_release" {
				return "release_path", true, nil
			}
			return name, true, nil
		}
	case "new_resource":
		if e.mode == modeHook {
			return "", true, todo("new_resource in a deploy hook (use the globals app, environment, release_path)")
		}
	}
	return "", false, nil
}

// constCall translates File.*, Chef::Log.* and friends.
func (e *emitter) constCall(c *Const, x *Call) (string, error) {
	args, err := e.exprs(x.Args)
	if err != nil {
		return "", err
	}
	name := joinNames(c.Names) + "." + x.Name
	switch name {
	case "File.join":
		for i := range args {
			args[i] = paren(args[i])
		}
		return strings.Join(args, ` .. "/" .. `), nil
	case "File.exist?", "File.exists?", "File.file?", "File.directory?", "Dir.exist?", "Dir.exists?":
		if len(args) == 1 {
			return "file_exists(" + args[0] + ")", nil
		}
	case "File.read", "IO.read":
		if len(args) == 1 {
			return "read_file(" + args[0] + ")", nil
		}
	case "File.basename":
		if len(args) == 1 {
			return "string.match(" + args[0] + `, "([^/]+)/*$")`, nil
		}
	case "File.dirname":
		if len(args) == 1 {
			return "string.match(" + args[0] + `, "^(.*)/[^/]*$")`, nil
		}
	case "Chef::Log.info", "Chef::Log.warn", "Chef::Log.error", "Chef::Log.debug", "Chef::Log.fatal":
		if len(args) == 1 {
			return `print("` + x.Name + `: " .. ` + paren(args[0]) + ")", nil
		}
	}
	return "", todo("constant call " + name)
}

var binaryOps = map[string]string{
	"&&": "and", "||": "or", "==": "==", "!=": "~=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
	"-": "-", "*": "*", "/": "/", "%": "%", "**": "^",
}

func isStrNode(n Node) bool {
	switch x := n.(type) {
	case *Str:
		return true
	case *Binary:
		return x.Op == "+" && (isStrNode(x.L) || isStrNode(x.R))
	}
	return false
}

func (e *emitter) binary(x *Binary) (string, error) {
	l, err := e.expr(x.L)
	if err != nil {
		return "", err
	}
	r, err := e.expr(x.R)
	if err != nil {
		return "", err
	}
	op, ok := binaryOps[x.Op]
	if x.Op == "+" {
		op, ok = "+", true
		if isStrNode(x.L) || isStrNode(x.R) {
			op = ".."
		}
	}
	if x.Op == "%" && isStrNode(x.L) {
		return "", todo("format with %")
	}
	if !ok {
		return "", todo("operator " + x.Op)
	}
	return paren(l) + " " + op + " " + paren(r), nil
}

// mapBlock translates list.map { |x| expr } and hash.map { |k, v| expr }
// (keys sorted) to a function building the list.
func (e *emitter) mapBlock(x *Call) (string, error) {
	ps := x.Block.Params
	if len(x.Block.Body) != 1 || len(ps) < 1 || len(ps) > 2 {
		return "", todo("block passed to " + x.Name)
	}
	coll, err := e.expr(x.Recv)
	if err != nil {
		return "", err
	}
	e.pushScope(ps...)
	v, err := e.expr(x.Block.Body[0])
	e.popScope()
	if err != nil {
		return "", err
	}
	a := localName(ps[0])
	loop := "for _, " + a + " in ipairs(t) do"
	if len(ps) == 2 {
		loop = "for _, " + a + " in ipairs(" + e.helper("port_keys", "t") + ") do local " + localName(ps[1]) + " = t[" + a + "]"
	}
	return "(function(t) local r = {} " + loop + " r[#r + 1] = " + v + " end return r end)(" + coll + ")", nil
}
