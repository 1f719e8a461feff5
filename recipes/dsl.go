package recipes

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

const resourceDeclType = "stackagent.resource"

// registerDSL binds every registered kind as a global function:
// `kind "name" { props }`. `package` is Lua's module table, so the package
// kind is its __call metamethod and require keeps working.
func (rt *runtime) registerDSL(L *lua.LState) {
	mt := L.NewTypeMetatable(resourceDeclType)
	L.SetField(mt, "__call", L.NewFunction(func(L *lua.LState) int {
		r := checkDecl(L, 1)
		rt.setProps(L, r, L.CheckTable(2))
		L.Push(L.Get(1))
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkDecl(L, 1).ID()))
		return 1
	}))
	g := L.G.Global
	for _, name := range rt.reg.Names() {
		k, _ := rt.reg.Lookup(name)
		if name == "package" {
			pkg, _ := g.RawGetString("package").(*lua.LTable)
			if pkg != nil {
				pmt := L.NewTable()
				L.SetField(pmt, "__call", L.NewFunction(func(L *lua.LState) int {
					L.Remove(1) // the package table itself
					return rt.declare(L, k)
				}))
				L.SetMetatable(pkg, pmt)
				continue
			}
		}
		g.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return rt.declare(L, k) }))
	}
}

func checkDecl(L *lua.LState, n int) *Resource {
	ud := L.CheckUserData(n)
	r, ok := ud.Value.(*Resource)
	if !ok {
		L.ArgError(n, "resource expected")
	}
	return r
}

// declare adds a resource of kind k to the collection: kind "name" or
// kind "name" { props } or kind({"a", "b"}) for kinds whose name property
// takes a list (package).
func (rt *runtime) declare(L *lua.LState, k *Kind) int {
	if !rt.compiling {
		L.RaiseError("%s: resources can only be declared while recipes compile, not from a lua_block or lazy value", k.Name)
	}
	var name string
	var nameList []string
	switch v := L.Get(1).(type) {
	case lua.LString:
		name = string(v)
	case lua.LNumber:
		name = v.String()
	case *lua.LTable:
		gv, err := rt.toGo(v)
		list, cerr := coerce(StringList, gv)
		if err != nil || cerr != nil || !k.hasListName() {
			L.RaiseError("%s: the name must be a string", k.Name)
		}
		nameList = list.([]string)
		name = strings.Join(nameList, ", ")
	default:
		L.RaiseError("%s: the name must be a string, got %s", k.Name, L.Get(1).Type())
	}
	if name == "" {
		L.RaiseError("%s: the name must not be empty", k.Name)
	}
	r := &Resource{Kind: k, Name: name, Actions: []string{k.DefaultAction}, Cookbook: rt.curCB,
		Recipe: rt.curRecipe, Decl: rt.where(1), props: map[string]any{}, set: map[string]bool{}}
	for _, p := range k.Props {
		switch {
		case p.NameProperty && nameList != nil:
			r.props[p.Name] = nameList
		case p.NameProperty:
			v, err := coerce(p.Type, name)
			if err != nil {
				L.RaiseError("%s: %s: %v", r.ID(), p.Name, err)
			}
			r.props[p.Name] = v
		case p.Default != nil:
			r.props[p.Name] = p.Default
		}
	}
	rt.collection = append(rt.collection, r)
	ud := L.NewUserData()
	ud.Value = r
	L.SetMetatable(ud, L.GetTypeMetatable(resourceDeclType))
	if t, ok := L.Get(2).(*lua.LTable); ok {
		rt.setProps(L, r, t)
	}
	L.Push(ud)
	return 1
}

func (k *Kind) hasListName() bool {
	for _, p := range k.Props {
		if p.NameProperty && p.Type == StringList {
			return true
		}
	}
	return false
}

// setProps validates and stores the properties of a resource block. Any
// problem raises a Lua error at the block's line.
func (rt *runtime) setProps(L *lua.LState, r *Resource, t *lua.LTable) {
	var keys []string
	var bad lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			keys = append(keys, string(s))
		} else if bad == nil {
			bad = k
		}
	})
	if bad != nil {
		L.RaiseError("%s: property names must be strings; got %s (a list item without a name?)", r.ID(), luaValueString(bad))
	}
	sort.Strings(keys)
	for _, key := range keys {
		if err := rt.setProp(r, key, t.RawGetString(key)); err != nil {
			L.RaiseError("%s: %v", r.ID(), err)
		}
	}
}

func (rt *runtime) setProp(r *Resource, key string, lv lua.LValue) error {
	v, err := rt.toGo(lv)
	if err != nil {
		return fmt.Errorf("property %s: %w", key, err)
	}
	if _, common := commonProps[key]; common {
		return rt.setCommon(r, key, v)
	}
	p, ok := r.Kind.prop(key)
	if !ok {
		names := make([]string, 0, len(r.Kind.Props)+len(commonProps))
		for _, p := range r.Kind.Props {
			names = append(names, p.Name)
		}
		return fmt.Errorf("unknown property %q%s", key, suggest(key, names))
	}
	cv, err := coerce(p.Type, v)
	if err != nil {
		return fmt.Errorf("property %s: %w", key, err)
	}
	if err := p.checkOneOf(cv); err != nil {
		return err
	}
	r.props[key] = cv
	r.set[key] = true
	return nil
}

func (p *Prop) checkOneOf(v any) error {
	s, ok := v.(string)
	if !ok || len(p.OneOf) == 0 {
		return nil
	}
	for _, x := range p.OneOf {
		if x == s {
			return nil
		}
	}
	return fmt.Errorf("property %s: %q is not one of %s", p.Name, s, strings.Join(p.OneOf, ", "))
}

func (rt *runtime) setCommon(r *Resource, key string, v any) error {
	if _, lazy := v.(*Lazy); lazy {
		return fmt.Errorf("property %s cannot be lazy", key)
	}
	switch key {
	case "action":
		acts, err := coerce(StringList, v)
		if err != nil {
			return fmt.Errorf("property action: %w", err)
		}
		for _, a := range acts.([]string) {
			if !r.Kind.hasAction(a) {
				return fmt.Errorf("unknown action %q (actions: %s)", a, strings.Join(r.Kind.Actions, ", "))
			}
		}
		r.Actions = acts.([]string)
	case "only_if", "not_if":
		gs, err := parseGuards(key, v)
		if err != nil {
			return err
		}
		r.Guards = append(r.Guards, gs...)
	case "notifies", "subscribes":
		ns, err := parseNotifications(key, v, rt.where(1))
		if err != nil {
			return err
		}
		if key == "notifies" {
			r.rawNotify = append(r.rawNotify, ns...)
		} else {
			r.rawSubs = append(r.rawSubs, ns...)
		}
	default:
		cv, err := coerce(commonProps[key], v)
		if err != nil {
			return fmt.Errorf("property %s: %w", key, err)
		}
		switch key {
		case "ignore_failure":
			switch x := cv.(type) {
			case bool:
				r.IgnoreFailure = x
			case string:
				if x != "quiet" {
					return fmt.Errorf("property ignore_failure: want true, false or \"quiet\", got %q", x)
				}
				r.IgnoreFailure, r.QuietFailure = true, true
			default:
				return fmt.Errorf("property ignore_failure: want true, false or \"quiet\", got %s", describe(cv))
			}
		case "retries":
			r.Retries = int(cv.(int64))
		case "retry_delay":
			r.RetryDelay = cv.(float64)
		case "sensitive":
			r.Sensitive = cv.(bool)
		}
	}
	return nil
}

func parseGuards(kind string, v any) ([]Guard, error) {
	switch x := v.(type) {
	case string:
		return []Guard{{Kind: kind, Command: x}}, nil
	case *LuaFunc:
		return []Guard{{Kind: kind, Fn: x}}, nil
	case []any:
		var out []Guard
		for _, e := range x {
			g, err := parseGuards(kind, e)
			if err != nil {
				return nil, err
			}
			out = append(out, g...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("property %s: want a shell command string or a function, got %s", kind, describe(v))
}

// parseNotifications accepts {action, "kind[name]", timing} or a list of
// those. Timing defaults to delayed.
func parseNotifications(kind string, v any, decl Pos) ([]rawNotification, error) {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil, fmt.Errorf("property %s: want {action, \"kind[name]\", timing} or a list of them, got %s", kind, describe(v))
	}
	if _, nested := l[0].([]any); nested {
		var out []rawNotification
		for _, e := range l {
			ns, err := parseNotifications(kind, e, decl)
			if err != nil {
				return nil, err
			}
			out = append(out, ns...)
		}
		return out, nil
	}
	parts := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("property %s: item %d: want a string, got %s", kind, i+1, describe(e))
		}
		parts[i] = s
	}
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("property %s: want {action, \"kind[name]\", timing}", kind)
	}
	n := rawNotification{action: parts[0], target: parts[1], timing: "delayed", decl: decl}
	if len(parts) == 3 {
		n.timing = parts[2]
	}
	switch n.timing {
	case "delayed", "before":
	case "immediately", "immediate":
		n.timing = "immediately"
	default:
		return nil, fmt.Errorf("property %s: timing %q: want delayed, immediately or before", kind, n.timing)
	}
	return []rawNotification{n}, nil
}

// suggest returns ` (did you mean "x"?)` for the closest name, if close.
func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
