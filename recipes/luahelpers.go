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
	for _, f := range validateFuncs {
		t.RawSetString(f.name, L.NewFunction(f.fn))
	}
	return t
}

// validateFuncs are the validate table's functions, in the order they are
// set.
var validateFuncs = []struct {
	name string
	fn   lua.LGFunction
}{
	{"path", validateString(CheckPath)},
	{"relpath", validateString(CheckRelPath)},
	{"identifier", validateString(CheckIdentifier)},
	{"module", validateString(CheckModule)},
	{"line", validateString(CheckLine)},
	{"word", validateString(CheckWord)},
	{"package", validateString(CheckPackage)},
	{"domain", validateDomain},
	{"name", validateName},
	{"port", validateNumber(checkPort)},
	{"integer", validateNumber(checkInteger)},
	{"keys", validateKeys},
	{"php", validatePHP},
}

// raiseIf raises err as the Lua error, when there is one.
func raiseIf(L *lua.LState, err error) {
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
}

// validateString makes validate.X(v, where) of a string check: it
// returns v when check passes.
func validateString(check func(where, v string) error) lua.LGFunction {
	return func(L *lua.LState) int {
		where := L.CheckString(2)
		v := checkString(L, where)
		raiseIf(L, check(where, v))
		L.Push(lua.LString(v))
		return 1
	}
}

// validateDomain is validate.domain(v, where, { wildcard = true }); it
// returns v lower-cased.
func validateDomain(L *lua.LState) int {
	where := L.CheckString(2)
	v := checkString(L, where)
	wildcard := false
	if o, ok := L.Get(3).(*lua.LTable); ok {
		wildcard = lua.LVAsBool(o.RawGetString("wildcard"))
	}
	raiseIf(L, CheckDomain(where, v, wildcard))
	L.Push(lua.LString(strings.ToLower(v)))
	return 1
}

// validateName is validate.name(v, where, kind).
func validateName(L *lua.LState) int {
	where := L.CheckString(2)
	v := checkString(L, where)
	raiseIf(L, CheckName(where, L.OptString(3, "name"), v))
	L.Push(lua.LString(v))
	return 1
}

// validateNumber makes validate.X(v, where, …) of a numeric check: it
// returns the number check makes of v.
func validateNumber(check func(L *lua.LState, where string, v any) (int64, error)) lua.LGFunction {
	return func(L *lua.LState) int {
		where := L.CheckString(2)
		n, err := check(L, where, scalar(L, L.Get(1)))
		raiseIf(L, err)
		L.Push(lua.LNumber(n))
		return 1
	}
}

// checkPort is validate.port(v, where).
func checkPort(_ *lua.LState, where string, v any) (int64, error) { return CheckPort(where, v) }

// checkInteger is validate.integer(v, where, min, max): min 0 and max
// 2^53 by default.
func checkInteger(L *lua.LState, where string, v any) (int64, error) {
	return CheckInt(where, v, int64(L.OptNumber(3, 0)), int64(L.OptNumber(4, 1<<53)))
}

// validateKeys is validate.keys(t, where, check): every key, values unread.
func validateKeys(L *lua.LState) int {
	where, kind := L.CheckString(2), L.CheckString(3)
	check, ok := keyChecks[kind]
	if !ok {
		L.RaiseError("validate.keys: unknown check %q (identifier, word, name, relpath)", kind)
	}
	for _, k := range tableKeys(L.Get(1)) {
		raiseIf(L, check(where, k))
	}
	return 0
}

// validatePHP is validate.php(v, where); it returns a PHP literal.
func validatePHP(L *lua.LState) int {
	where := L.CheckString(2)
	lit, err := PHPLiteral(where, scalar(L, L.Get(1)))
	raiseIf(L, err)
	L.Push(lua.LString(lit))
	return 1
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
