package recipes

import (
	"context"
	"fmt"
	"github.com/stackagent/stackagent/internal/lazyre"
	"io/fs"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// customDef is what COOKBOOK/resources/NAME.lua declares besides the
// Kind's properties and actions.
type customDef struct {
	file      string // display name of the file
	cb        *Cookbook
	actions   map[string]*LuaFunc
	load      *LuaFunc // load_current_value, or nil
	tables    map[string]bool
	callbacks map[string][]callback
	sealed    bool // the file has run: the declaration DSL is closed
}

type callback struct {
	msg string
	fn  *LuaFunc
}

// customKinds are the kinds a run's cookbooks declare, by long name, and
// the short names that are unambiguous (or not: ambiguous holds both files).
type customKinds struct {
	byName    map[string]*Kind
	aliases   map[string]string   // short name → long name
	ambiguous map[string][]string // short name → the files declaring it
}

var reResourceName = lazyre.New(`^[a-z][a-z0-9_]*$`)

var customTypes = map[string]Type{"string": String, "number": Number, "integer": Int, "boolean": Bool, "table": Any}

// loadCustomKinds runs every resources/*.lua of the run's cookbooks and
// binds their kinds as DSL functions: COOKBOOK_NAME, and NAME when no
// built-in kind or other cookbook has it.
func (rt *runtime) loadCustomKinds(books []*Cookbook) error {
	ck := customKinds{byName: map[string]*Kind{}, aliases: map[string]string{}, ambiguous: map[string][]string{}}
	shortFiles := map[string][]string{}
	for _, cb := range books {
		for _, f := range cb.listLua("resources") {
			k, err := rt.loadCustomKind(cb, f)
			if err != nil {
				return err
			}
			if rt.globalTaken(k.Name) {
				return fmt.Errorf("%s: kind %s would hide the built-in kind or function of that name: rename the file", k.custom.file, k.Name)
			}
			if o, dup := ck.byName[k.Name]; dup {
				return fmt.Errorf("%s: kind %s is declared by %s too", k.custom.file, k.Name, o.custom.file)
			}
			ck.byName[k.Name] = k
			if !rt.globalTaken(f) {
				shortFiles[f] = append(shortFiles[f], k.Name)
			}
		}
	}
	g := rt.L.G.Global
	for _, k := range ck.byName {
		g.RawSetString(k.Name, rt.L.NewFunction(func(L *lua.LState) int { return rt.declare(L, k) }))
	}
	for short, longs := range shortFiles {
		if _, taken := ck.byName[short]; taken {
			continue
		}
		if len(longs) == 1 {
			ck.aliases[short] = longs[0]
			g.RawSetString(short, g.RawGetString(longs[0]))
			continue
		}
		var files []string
		for _, l := range longs {
			files = append(files, ck.byName[l].custom.file)
		}
		sort.Strings(files)
		sort.Strings(longs)
		msg := fmt.Sprintf("resource kind %q is ambiguous: declared by %s; use the long name (%s)",
			short, strings.Join(files, " and "), strings.Join(longs, " or "))
		g.RawSetString(short, rt.L.NewFunction(func(L *lua.LState) int { L.RaiseError("%s", msg); return 0 }))
	}
	rt.customs = ck
	return nil
}

// reservedGlobals are names the engine sets while compiling.
var reservedGlobals = map[string]bool{"cookbook_name": true, "recipe_name": true}

// globalTaken says whether a custom kind of that name would hide a
// built-in kind, a helper, a Lua library or an attribute level.
func (rt *runtime) globalTaken(name string) bool {
	if reservedGlobals[name] {
		return true
	}
	for _, lvl := range recipeLevels {
		if lvl.String() == name {
			return true
		}
	}
	return rt.L.G.Global.RawGetString(name) != lua.LNil
}

// canonicalRef rewrites "short[name]" to "cookbook_short[name]".
func (rt *runtime) canonicalRef(ref string) string {
	kind, rest, ok := strings.Cut(ref, "[")
	if long, alias := rt.customs.aliases[strings.TrimSpace(kind)]; ok && alias {
		return long + "[" + rest
	}
	return ref
}

// loadCustomKind runs one resources/NAME.lua with the declaration DSL in
// scope and returns the kind it declares.
func (rt *runtime) loadCustomKind(cb *Cookbook, name string) (*Kind, error) {
	rel := "resources/" + name + ".lua"
	file := cb.Display(rel)
	if !reResourceName().MatchString(name) || !reResourceName().MatchString(strings.ReplaceAll(cb.Name, "-", "_")) {
		return nil, fmt.Errorf("%s: a resource file name must be lower-case letters, digits and _ (and the cookbook name too)", file)
	}
	src, err := fs.ReadFile(cb.FS, rel)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	fn, err := compiledChunks.load(rt.L, string(src), file)
	if err != nil {
		return nil, atEOF(luaError(err), string(src))
	}
	k := &Kind{Name: strings.ReplaceAll(cb.Name, "-", "_") + "_" + name, Doc: "custom resource (" + file + ")",
		Provider: ProviderFunc(noCustomPlan)}
	k.custom = &customDef{file: file, cb: cb, actions: map[string]*LuaFunc{}, tables: map[string]bool{}, callbacks: map[string][]callback{}}
	k.Validate = k.custom.validateTables
	fn.Env = rt.declEnv(k)
	defer rt.withDeadline(rt.ctx)()
	rt.L.Push(fn)
	err = rt.L.PCall(0, 0, nil)
	k.custom.sealed = true
	if err != nil {
		return nil, luaError(err)
	}
	if len(k.Actions) == 0 {
		return nil, fmt.Errorf("%s: %s declares no action (action \"create\" (function(new_resource) … end))", file, k.Name)
	}
	if k.DefaultAction == "" {
		k.DefaultAction = k.Actions[0]
	}
	if !k.hasAction(k.DefaultAction) {
		return nil, fmt.Errorf("%s: default_action %q: unknown action (actions: %s)", file, k.DefaultAction, strings.Join(k.Actions, ", "))
	}
	return k, nil
}

func noCustomPlan(context.Context, *RunContext, *Resource, string) ([]Step, error) {
	return nil, fmt.Errorf("custom resource planned as a built-in one (engine bug)")
}

// declEnv is the environment of a resources/*.lua file: property,
// default_action, action and load_current_value, then the globals.
func (rt *runtime) declEnv(k *Kind) *lua.LTable {
	L := rt.L
	env := L.CreateTable(0, 6)
	decl := func(name string, fn lua.LGFunction) {
		env.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if k.custom.sealed {
				L.RaiseError("%s: only at the top of %s, not inside an action", name, k.custom.file)
			}
			return fn(L)
		}))
	}
	decl("property", func(L *lua.LState) int {
		p := rt.declareProp(L, k, L.CheckString(1))
		if t, ok := L.Get(2).(*lua.LTable); ok {
			rt.propOptions(L, k, p, t)
			return 0
		}
		L.Push(L.NewFunction(func(L *lua.LState) int {
			rt.propOptions(L, k, p, L.CheckTable(1))
			return 0
		}))
		return 1
	})
	decl("default_action", func(L *lua.LState) int {
		k.DefaultAction = L.CheckString(1)
		return 0
	})
	decl("load_current_value", func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		k.custom.load = &LuaFunc{fn: fn, src: funcSource(fn, rt.where(1))}
		return 0
	})
	decl("action", func(L *lua.LState) int {
		name := L.CheckString(1)
		if name == "nothing" || !reResourceName().MatchString(name) {
			L.RaiseError("action %q: want a lower-case name other than nothing", name)
		}
		if _, dup := k.custom.actions[name]; dup {
			L.RaiseError("action %q declared twice", name)
		}
		add := func(L *lua.LState, n int) int {
			fn := L.CheckFunction(n)
			k.custom.actions[name] = &LuaFunc{fn: fn, src: funcSource(fn, rt.where(1))}
			k.Actions = append(k.Actions, name)
			return 0
		}
		if L.GetTop() >= 2 {
			return add(L, 2)
		}
		L.Push(L.NewFunction(func(L *lua.LState) int { return add(L, 1) }))
		return 1
	})
	env.RawSetString("converge_if_changed", L.NewFunction(rt.convergeIfChanged))
	env.RawSetString("current_value_does_not_exist", L.NewFunction(rt.currentValueDoesNotExist))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.G.Global)
	L.SetMetatable(env, mt)
	return env
}

func (rt *runtime) declareProp(L *lua.LState, k *Kind, name string) *Prop {
	if !reResourceName().MatchString(name) {
		L.RaiseError("property %q: want a lower-case name (letters, digits, _)", name)
	}
	if _, common := commonProps[name]; common || name == "name" {
		L.RaiseError("property %q: every resource has it already", name)
	}
	if _, dup := k.prop(name); dup {
		L.RaiseError("property %q declared twice", name)
	}
	k.Props = append(k.Props, Prop{Name: name, Type: Any})
	return &k.Props[len(k.Props)-1]
}

// propOptions applies { type = …, default = …, … } to a declared property.
func (rt *runtime) propOptions(L *lua.LState, k *Kind, p *Prop, t *lua.LTable) {
	name := p.Name // p may move as more properties are appended: find it again
	p, _ = k.prop(name)
	opts, err := rt.toGo(t)
	m, ok := opts.(map[string]any)
	if err != nil || (!ok && t.Len() > 0) {
		L.RaiseError("property %q: want a table of options { type = …, default = … }", name)
	}
	if tn, ok := m["type"]; ok {
		s, _ := tn.(string)
		typ, known := customTypes[s]
		if !known {
			L.RaiseError("property %q: type %v: want string, number, integer, boolean or table", name, tn)
		}
		p.Type, k.custom.tables[name] = typ, s == "table"
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if err := rt.propOption(k, p, key, m[key]); err != nil {
			L.RaiseError("property %q: %v", name, err)
		}
	}
}

func (rt *runtime) propOption(k *Kind, p *Prop, key string, v any) error {
	flag := func(dst *bool) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%s: want true or false, got %s", key, describe(v))
		}
		*dst = b
		return nil
	}
	switch key {
	case "type", "description":
		return nil
	case "required":
		return flag(&p.Required)
	case "sensitive":
		return flag(&p.Sensitive)
	case "name_property":
		for _, o := range k.Props {
			if o.NameProperty && o.Name != p.Name {
				return fmt.Errorf("name_property: %s is the name property already", o.Name)
			}
		}
		return flag(&p.NameProperty)
	case "default":
		cv, err := coerce(p.Type, v)
		if err == nil {
			err = k.custom.checkTable(p.Name, cv)
		}
		if err != nil {
			return fmt.Errorf("default: %w", err)
		}
		p.Default = cv
		return nil
	case "callbacks":
		cbs, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("callbacks: want { [\"message\"] = function(value) … end }, got %s", describe(v))
		}
		for msg, f := range cbs {
			fn, ok := f.(*LuaFunc)
			if !ok {
				return fmt.Errorf("callbacks[%q]: want a function, got %s", msg, describe(f))
			}
			k.custom.callbacks[p.Name] = append(k.custom.callbacks[p.Name], callback{msg: msg, fn: fn})
		}
		sort.Slice(k.custom.callbacks[p.Name], func(i, j int) bool {
			return k.custom.callbacks[p.Name][i].msg < k.custom.callbacks[p.Name][j].msg
		})
		return nil
	}
	return fmt.Errorf("unknown option %q (options: type, default, required, name_property, sensitive, callbacks, description)%s",
		key, suggest(key, []string{"type", "default", "required", "name_property", "sensitive", "callbacks", "description"}))
}

// checkTable says whether v fits a property declared type = "table".
func (d *customDef) checkTable(name string, v any) error {
	if !d.tables[name] || v == nil {
		return nil
	}
	switch v.(type) {
	case map[string]any, []any, []string, *Lazy:
		return nil
	}
	return fmt.Errorf("want table, got %s", describe(v))
}

// validateTables is the kind's compile-time check of table properties.
func (d *customDef) validateTables(_ *RunContext, r *Resource) error {
	for name := range d.tables {
		if err := d.checkTable(name, r.props[name]); err != nil {
			return fmt.Errorf("property %s: %w", name, err)
		}
	}
	return nil
}
