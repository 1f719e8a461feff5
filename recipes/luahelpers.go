package recipes

import (
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// validateTable is the validate table recipes call to check an
// attribute before it reaches a command or a config file (see checks.go
// and docs/recipes.md):
//
//	local d = validate.domain(v, "node.deploy.wp.domains[1]")   -- lower-cased
//	validate.domain(v, where, { wildcard = true })                -- *.example.com
//	validate.path(v, where); validate.relpath(v, where)
//	validate.identifier(v, where); validate.module(v, where)
//	validate.line(v, where); validate.word(v, where); validate.package(v, where)
//	validate.name(v, where, "app name")
//	local p = validate.port(v, where)                              -- a number
//	local n = validate.integer(v, where, min, max)                 -- min 0 by default
//	local lit = validate.php(v, where)                             -- a PHP literal
//	validate.keys(t, where, "identifier")   -- every key of a table or node view, values unread
//
// Each returns the value when it is good and raises an error naming
// where otherwise.
func (rt *runtime) validateTable(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	str := func(check func(where, v string) error) lua.LGFunction {
		return func(L *lua.LState) int {
			where := L.CheckString(2)
			v := checkString(L, where)
			if err := check(where, v); err != nil {
				L.RaiseError("%s", err.Error())
			}
			L.Push(lua.LString(v))
			return 1
		}
	}
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("path", str(CheckPath))
	set("relpath", str(CheckRelPath))
	set("identifier", str(CheckIdentifier))
	set("module", str(CheckModule))
	set("line", str(CheckLine))
	set("word", str(CheckWord))
	set("package", str(CheckPackage))
	set("domain", func(L *lua.LState) int {
		where := L.CheckString(2)
		v := checkString(L, where)
		wildcard := false
		if o, ok := L.Get(3).(*lua.LTable); ok {
			wildcard = lua.LVAsBool(o.RawGetString("wildcard"))
		}
		if err := CheckDomain(where, v, wildcard); err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(strings.ToLower(v)))
		return 1
	})
	set("name", func(L *lua.LState) int {
		where := L.CheckString(2)
		v := checkString(L, where)
		if err := CheckName(where, L.OptString(3, "name"), v); err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(v))
		return 1
	})
	set("port", func(L *lua.LState) int {
		where := L.CheckString(2)
		n, err := CheckPort(where, scalar(L, L.Get(1)))
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LNumber(n))
		return 1
	})
	set("integer", func(L *lua.LState) int {
		where := L.CheckString(2)
		n, err := CheckInt(where, scalar(L, L.Get(1)), int64(L.OptNumber(3, 0)), int64(L.OptNumber(4, 1<<53)))
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LNumber(n))
		return 1
	})
	set("keys", func(L *lua.LState) int {
		where, kind := L.CheckString(2), L.CheckString(3)
		check, ok := keyChecks[kind]
		if !ok {
			L.RaiseError("validate.keys: unknown check %q (identifier, word, name, relpath)", kind)
		}
		for _, k := range tableKeys(L.Get(1)) {
			if err := check(where, k); err != nil {
				L.RaiseError("%s", err.Error())
			}
		}
		return 0
	})
	set("php", func(L *lua.LState) int {
		where := L.CheckString(2)
		lit, err := PHPLiteral(where, scalar(L, L.Get(1)))
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(lit))
		return 1
	})
	return t
}

// keyChecks are the checks validate.keys applies to keys.
var keyChecks = map[string]func(where, v string) error{
	"identifier": CheckIdentifier, "word": CheckWord, "relpath": CheckRelPath,
	"name": func(where, v string) error { return CheckName(where, "name", v) },
}

// tableKeys lists the keys of a Lua table or a node attribute view
// without reading (or resolving) a value; nil has none.
func tableKeys(v lua.LValue) []string {
	var keys []string
	switch x := v.(type) {
	case *lua.LUserData:
		if av, ok := x.Value.(*attrView); ok {
			m, _ := av.get()
			mm, _ := m.(map[string]any)
			keys = sortedKeys(mm)
		}
	case *lua.LTable:
		x.ForEach(func(k, _ lua.LValue) { keys = append(keys, k.String()) })
	}
	return keys
}

// checkString returns argument 1 as a string (a number is taken as its
// text), or raises an error naming where.
func checkString(L *lua.LState, where string) string {
	switch v := L.Get(1).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	L.RaiseError("%s: want a string, got %s", where, L.Get(1).Type())
	return ""
}

// luaOther is a Lua value that is not a scalar (a table, a function):
// every check refuses it.
type luaOther string

func (o luaOther) String() string { return "<" + string(o) + ">" }

// scalar converts a Lua scalar for the checks: nil, a boolean, a number
// (int64 when integral), a string; anything else becomes a luaOther.
func scalar(_ *lua.LState, v lua.LValue) any {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		f := float64(x)
		if f == float64(int64(f)) {
			return int64(f)
		}
		return f
	case lua.LString:
		return string(x)
	}
	return luaOther(v.Type().String())
}

// luaShellOut runs a command: shell_out("cmd") through /bin/sh -c,
// shell_out({"prog", "arg", …}) as argv without a shell. It returns a
// table with stdout, stderr and exitstatus, as Chef's shell_out does.
func (rt *runtime) luaShellOut(L *lua.LState) int {
	c := Command{Timeout: 10 * time.Minute}
	switch v := L.Get(1).(type) {
	case lua.LString:
		c.Path, c.Args = "/bin/sh", []string{"-c", string(v)}
	case *lua.LTable:
		n := v.Len()
		for i := 1; i <= n; i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				L.RaiseError("shell_out: argument %d: want a string, got %s", i, v.RawGetInt(i).Type())
			}
			c.Args = append(c.Args, string(s))
		}
		if n == 0 || c.Args[0] == "" {
			L.RaiseError("shell_out: an empty argv")
		}
		c.Path, c.Args = c.Args[0], c.Args[1:]
	default:
		L.RaiseError("shell_out: want a command string or a list of program and arguments, got %s", L.Get(1).Type())
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = rt.ctx
	}
	res, err := rt.runner.Run(ctx, c)
	if err != nil {
		L.RaiseError("shell_out %q: %v", c.String(), err)
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	t.RawSetString("exitstatus", lua.LNumber(res.ExitCode))
	L.Push(t)
	return 1
}
