package recipes

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// nodeMethod is what node.KEY means besides attributes: run_list (the run
// list as given) and run_state (a scratch table for the run), as in Chef.
func (rt *runtime) nodeMethod(L *lua.LState, key string) (lua.LValue, bool) {
	switch key {
	case "run_list":
		t := L.CreateTable(len(rt.opts.RunList), 0)
		for _, it := range rt.opts.RunList {
			t.Append(lua.LString(it.String()))
		}
		return t, true
	case "run_state":
		if rt.runState == nil {
			rt.runState = L.NewTable()
		}
		return rt.runState, true
	}
	return nil, false
}

// lookupKind finds a kind by its name: built-in, or custom by its long or
// unambiguous short name.
func (rt *runtime) lookupKind(name string) (*Kind, bool) {
	if k, ok := rt.reg.Lookup(name); ok {
		return k, true
	}
	if long, ok := rt.customs.aliases[name]; ok {
		name = long
	}
	k, ok := rt.customs.byName[name]
	return k, ok
}

// registerCollectionHelpers adds find_resource, edit_resource and
// delete_resource (Chef's resource collection helpers). They act on the
// collection being built: the run's, or a custom resource action's.
func (rt *runtime) registerCollectionHelpers(L *lua.LState) {
	g := L.G.Global
	g.RawSetString("find_resource", L.NewFunction(func(L *lua.LState) int {
		_, i := rt.findResource(L)
		if i < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(rt.declHandle(L, rt.collection[i]))
		return 1
	}))
	g.RawSetString("edit_resource", L.NewFunction(func(L *lua.LState) int {
		k, i := rt.findResource(L)
		rt.mustCompile(L, "edit_resource")
		if i < 0 { // Chef's edit_resource declares it when it is not there
			L.Remove(1)
			return rt.declare(L, k)
		}
		r := rt.collection[i]
		if t, ok := L.Get(3).(*lua.LTable); ok {
			rt.setProps(L, r, t)
		}
		L.Push(rt.declHandle(L, r))
		return 1
	}))
	g.RawSetString("delete_resource", L.NewFunction(func(L *lua.LState) int {
		_, i := rt.findResource(L)
		rt.mustCompile(L, "delete_resource")
		if i >= 0 {
			rt.collection = append(rt.collection[:i:i], rt.collection[i+1:]...)
		}
		L.Push(lua.LBool(i >= 0))
		return 1
	}))
}

func (rt *runtime) mustCompile(L *lua.LState, fn string) {
	if !rt.compiling {
		L.RaiseError("%s: only while recipes compile (or in a custom resource's action)", fn)
	}
}

// findResource reads (kind, name) and returns the kind and the index of
// the last resource of that kind and name in the collection, or -1.
func (rt *runtime) findResource(L *lua.LState) (*Kind, int) {
	kind, name := L.CheckString(1), L.CheckString(2)
	k, ok := rt.lookupKind(kind)
	if !ok {
		L.RaiseError("%s", fmt.Sprintf("unknown resource kind %q%s", kind, suggest(kind, rt.reg.Names())))
	}
	for i := len(rt.collection) - 1; i >= 0; i-- {
		if r := rt.collection[i]; r.Kind == k && r.Name == name {
			return k, i
		}
	}
	return k, -1
}

// declHandle is what a declaration returns: callable with more properties.
func (rt *runtime) declHandle(L *lua.LState, r *Resource) lua.LValue {
	ud := L.NewUserData()
	ud.Value = r
	L.SetMetatable(ud, L.GetTypeMetatable(resourceDeclType))
	return ud
}
