package recipes

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// attrView is what Lua sees of node attributes: `node` (the merged,
// read-only view) and `default`/`normal`/`override` (one level, writable,
// auto-vivifying so that `default.apache.port = 80` works).
type attrView struct {
	node   *Node
	level  Level // meaningless when merged
	merged bool
	path   []string
}

const attrViewType = "stackagent.attributes"

func (v *attrView) child(k string) *attrView {
	p := make([]string, len(v.path)+1)
	copy(p, v.path)
	p[len(v.path)] = k
	return &attrView{node: v.node, level: v.level, merged: v.merged, path: p}
}

// get returns the value the view stands for: the merged value, or the
// level's own.
func (v *attrView) get() (any, bool) {
	if v.merged {
		return v.node.Get(v.path...)
	}
	x, ok := lookupAt(v.node.levels[v.level], v.path)
	return jsontree.Copy(x), ok
}

func (v *attrView) name() string {
	prefix := "node"
	if !v.merged {
		prefix = v.level.String()
	}
	if len(v.path) == 0 {
		return prefix
	}
	return prefix + "." + strings.Join(v.path, ".")
}

func (rt *runtime) pushView(L *lua.LState, v *attrView) lua.LValue {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(attrViewType))
	return ud
}

func checkView(L *lua.LState) *attrView {
	ud := L.CheckUserData(1)
	v, ok := ud.Value.(*attrView)
	if !ok {
		L.ArgError(1, "attributes expected")
	}
	return v
}

func (rt *runtime) registerAttrViews(L *lua.LState) {
	mt := L.NewTypeMetatable(attrViewType)
	L.SetField(mt, "__index", L.NewFunction(rt.viewIndex))
	L.SetField(mt, "__newindex", L.NewFunction(rt.viewNewIndex))
	L.SetField(mt, "__pairs", L.NewFunction(rt.viewPairs))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkView(L).name()))
		return 1
	}))
}

func (rt *runtime) viewIndex(L *lua.LState) int {
	v := checkView(L)
	key := L.CheckAny(2)
	k := lua.LVAsString(key)
	if k == "" {
		L.Push(lua.LNil)
		return 1
	}
	if v.merged && len(v.path) == 0 {
		if x, ok := rt.nodeMethod(L, k); ok {
			L.Push(x)
			return 1
		}
		for _, lvl := range recipeLevels {
			if k == lvl.String() {
				L.Push(rt.pushView(L, &attrView{node: v.node, level: lvl}))
				return 1
			}
		}
	}
	c := v.child(k)
	if v.merged {
		x, isMap, ok := v.node.peek(c.path)
		switch {
		case !ok:
			L.Push(lua.LNil)
		case isMap:
			if raw, _ := v.node.Get(c.path...); isSecret(raw) {
				s, err := rt.resolveSecret(raw.(map[string]any)["secret"].(string))
				if err != nil {
					L.RaiseError("%s: %v", c.name(), err)
				}
				L.Push(lua.LString(s))
				return 1
			}
			L.Push(rt.pushView(L, c))
		default:
			L.Push(toLua(L, x))
		}
		return 1
	}
	x, ok := lookupAt(v.node.levels[v.level], c.path)
	if _, isMap := x.(map[string]any); !ok || isMap {
		L.Push(rt.pushView(L, c))
		return 1
	}
	L.Push(toLua(L, x))
	return 1
}

func (rt *runtime) viewNewIndex(L *lua.LState) int {
	v := checkView(L)
	k := L.CheckString(2)
	if v.merged {
		L.RaiseError("cannot set %s.%s: node is read-only; set attributes with node.default.%s = … (or node.override), or default.%s = … in an attributes file", v.name(), k, k, k)
		return 0
	}
	if v.level == Automatic {
		L.RaiseError("cannot set automatic attribute %s.%s", v.name(), k)
		return 0
	}
	val, err := rt.toGo(L.Get(3))
	if err != nil {
		L.RaiseError("set %s.%s: %v", v.name(), k, err)
		return 0
	}
	if _, isLazy := val.(*Lazy); isLazy {
		L.RaiseError("set %s.%s: lazy values belong in resource properties, not attributes", v.name(), k)
		return 0
	}
	v.node.Set(v.level, v.child(k).path, val)
	return 0
}

// viewPairs implements __pairs (honoured by the recipe sandbox's pairs):
// keys in order, nested maps as views.
func (rt *runtime) viewPairs(L *lua.LState) int {
	v := checkView(L)
	val, _ := v.get()
	m, _ := val.(map[string]any)
	keys := sortedKeys(m)
	i := 0
	next := L.NewFunction(func(L *lua.LState) int {
		if i >= len(keys) {
			L.Push(lua.LNil)
			return 1
		}
		k := keys[i]
		i++
		L.Push(lua.LString(k))
		if ref, ok := secretRef(m[k]); ok && v.merged {
			s, err := rt.resolveSecret(ref)
			if err != nil {
				L.RaiseError("%s.%s: %v", v.name(), k, err)
			}
			L.Push(lua.LString(s))
		} else if _, isMap := m[k].(map[string]any); isMap {
			L.Push(rt.pushView(L, v.child(k)))
		} else {
			L.Push(toLua(L, m[k]))
		}
		return 2
	})
	L.Push(next)
	L.Push(L.Get(1))
	L.Push(lua.LNil)
	return 3
}

// pairsWithMeta is the sandbox's pairs: it honours a __pairs metamethod
// (Lua 5.2 behaviour) so attribute views can be iterated.
func pairsWithMeta(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		arg := L.CheckAny(1)
		if mm := L.GetMetaField(arg, "__pairs"); mm != lua.LNil {
			L.Push(mm)
			L.Push(arg)
			L.Call(1, 3)
			return 3
		}
		L.Push(orig)
		L.Push(arg)
		L.Call(1, 3)
		return 3
	}
}

// luaValueString renders a value for messages.
func luaValueString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return fmt.Sprintf("%q", string(s))
	}
	return v.String()
}

func isSecret(v any) bool { _, ok := secretRef(v); return ok }
