package recipes

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/stackagent/stackagent/internal/lazyre"
)

// toGo converts a Lua value to the engine's Go shapes: nil, bool, string,
// int64 (integral numbers), float64, []any (tables with keys 1..n),
// map[string]any (other tables), *LuaFunc, *Lazy. A node attribute view
// converts to its merged value.
func (rt *runtime) toGo(v lua.LValue) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LString:
		return string(x), nil
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return f, nil
	case *lua.LFunction:
		return &LuaFunc{fn: x, src: funcSource(x, rt.where(1))}, nil
	case *lua.LUserData:
		switch u := x.Value.(type) {
		case *Lazy:
			return u, nil
		case *attrView:
			v, _ := u.get()
			if u.merged {
				return rt.resolveSecrets(v)
			}
			return v, nil
		}
		return nil, fmt.Errorf("cannot use a %T here", x.Value)
	case *lua.LTable:
		return rt.tableToGo(x)
	}
	return nil, fmt.Errorf("cannot use a %s here", v.Type())
}

func (rt *runtime) tableToGo(t *lua.LTable) (any, error) {
	n := t.Len()
	count := 0
	t.ForEach(func(lua.LValue, lua.LValue) { count++ })
	if n > 0 && n == count {
		l := make([]any, 0, n)
		for i := 1; i <= n; i++ {
			v, err := rt.toGo(t.RawGetInt(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, v)
		}
		return l, nil
	}
	m := make(map[string]any, count)
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		var key string
		switch kk := k.(type) {
		case lua.LString:
			key = string(kk)
		case lua.LNumber:
			key = kk.String()
		default:
			err = fmt.Errorf("table key of type %s: keys must be strings", k.Type())
			return
		}
		var gv any
		if gv, err = rt.toGo(v); err != nil {
			err = fmt.Errorf("%s: %w", key, err)
			return
		}
		m[key] = gv
	})
	return m, err
}

// toLua converts a Go value to Lua; maps and lists become new tables.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case []string:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(lua.LString(e))
		}
		return t
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, toLua(L, x[k]))
		}
		return t
	case *LuaFunc:
		return x.fn
	case lua.LValue:
		return x
	}
	return lua.LString(fmt.Sprint(v))
}

// funcSource is where a Lua function was defined, or else fallback.
func funcSource(fn *lua.LFunction, fallback Pos) Pos {
	if fn.Proto != nil {
		return Pos{File: fn.Proto.SourceName, Line: fn.Proto.LineDefined}
	}
	return fallback
}

var reMode = lazyre.New(`^0?[0-7]{3,4}$`)

// coerceMode reads a file mode as Chef does: a string of octal digits
// ("0644", "644", "2755"), or a number, which is the mode's value (Ruby's
// 0644 is 420, 0755 is 493). A number above 511 (0777) is refused: 644
// written as a number is 01204 in Chef, never what was meant, and the
// special bits are clearer as a string ("2755").
func coerceMode(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if !reMode().MatchString(x) {
			return nil, fmt.Errorf("want a file mode of octal digits such as \"0644\", got %q", x)
		}
		if len(x) == 3 {
			x = "0" + x
		}
		return x, nil
	case int64:
		if x < 0 || x > 0o777 {
			return nil, fmt.Errorf("want a file mode: a number is the mode's value as in Chef (0644 is 420, 0755 is 493); %d is %#o: write the octal digits as a string (\"0%d\")", x, x, x)
		}
		return fmt.Sprintf("%04o", x), nil
	}
	return nil, fmt.Errorf("want %s, got %s", Mode, describe(v))
}

// coerce checks a Go value (from toGo) against a property type and returns
// it in the shape the provider expects. Lazy values pass; they are checked
// again once computed.
func coerce(t Type, v any) (any, error) {
	if _, ok := v.(*Lazy); ok {
		return v, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("want %s, got %s", t, describe(v)) }
	switch t {
	case Any:
		return v, nil
	case String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Int:
		if i, ok := v.(int64); ok {
			return i, nil
		}
	case Number:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
	case StringList, List:
		if out, ok, err := coerceList(t, v); ok || err != nil {
			return out, err
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	case Func:
		if f, ok := v.(*LuaFunc); ok {
			return f, nil
		}
	case Mode:
		return coerceMode(v)
	}
	return bad()
}

// coerceList is coerce for List and StringList (an empty Lua table is
// an empty list): ok is false when v has no shape the list takes.
func coerceList(t Type, v any) (out any, ok bool, err error) {
	if t == List {
		switch x := v.(type) {
		case []any:
			return x, true, nil
		case map[string]any:
			if len(x) == 0 {
				return []any{}, true, nil
			}
		}
		return nil, false, nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}, true, nil
	case []string:
		return x, true, nil
	case map[string]any:
		if len(x) == 0 {
			return []string{}, true, nil
		}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, err := coerce(String, e)
			if err != nil {
				return nil, false, fmt.Errorf("item %d: %w", i+1, err)
			}
			out[i] = s.(string)
		}
		return out, true, nil
	}
	return nil, false, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case int64, float64:
		return fmt.Sprintf("number %v", x)
	case []any:
		return "list"
	case map[string]any:
		return "table"
	case *LuaFunc:
		return "function"
	}
	return fmt.Sprintf("%T", v)
}
