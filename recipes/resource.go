package recipes

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Pos is where something was declared: a cookbook file and line.
type Pos struct {
	File string
	Line int
}

func (s Pos) String() string {
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// LuaFunc is a Lua function held by a resource (a guard, a lua_block's
// block, a lazy value). Providers run it through RunContext.CallLua.
type LuaFunc struct {
	fn  *lua.LFunction
	src Pos
}

// Pos is where the function was written.
func (f *LuaFunc) Pos() Pos { return f.src }

// Lazy is a value computed at converge time: lazy(function() … end).
type Lazy struct{ fn *LuaFunc }

// Guard is an only_if or not_if condition: a shell command or a Lua function.
type Guard struct {
	Kind    string // "only_if" or "not_if"
	Command string
	Fn      *LuaFunc
}

func (g Guard) String() string { return g.Kind }

// Notification says: when Source resource updates, run Action on Target at
// Timing (delayed, immediately or before).
type Notification struct {
	Action    string
	TargetRef string
	Target    *Resource
	Timing    string
	Decl      Pos
}

// Resource is one declared resource in the collection.
type Resource struct {
	Kind     *Kind
	Name     string
	Actions  []string
	Cookbook *Cookbook
	Recipe   string // "cb::recipe"
	Decl     Pos

	IgnoreFailure bool
	// QuietFailure (ignore_failure = "quiet"): the failure is recorded in
	// the report but not shown on the console, as Chef's :quiet.
	QuietFailure bool
	Retries      int
	RetryDelay   float64
	Sensitive    bool
	Guards       []Guard
	Notifies     []*Notification

	props     map[string]any
	set       map[string]bool
	rawNotify []rawNotification
	rawSubs   []rawNotification
}

type rawNotification struct {
	action, target, timing string
	decl                   Pos
}

// ID is how Chef names a resource: kind[name].
func (r *Resource) ID() string { return r.Kind.Name + "[" + r.Name + "]" }

func (r *Resource) String() string { return r.ID() }

// IsSet reports whether the recipe gave the property a value (as opposed to
// its default).
func (r *Resource) IsSet(name string) bool { return r.set[name] }

// Get returns the property's value (resolved, typed as its Kind says), or nil.
func (r *Resource) Get(name string) any { return r.props[name] }

// Str returns a String or Mode property, "" when unset.
func (r *Resource) Str(name string) string { s, _ := r.props[name].(string); return s }

// Bool returns a Bool property.
func (r *Resource) Bool(name string) bool { b, _ := r.props[name].(bool); return b }

// Int returns an Int property.
func (r *Resource) Int(name string) int64 {
	switch v := r.props[name].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// Num returns a Number property.
func (r *Resource) Num(name string) float64 {
	switch v := r.props[name].(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// Strings returns a StringList property.
func (r *Resource) Strings(name string) []string { s, _ := r.props[name].([]string); return s }

// Map returns a Map property.
func (r *Resource) Map(name string) map[string]any { m, _ := r.props[name].(map[string]any); return m }

// List returns a List property.
func (r *Resource) List(name string) []any { l, _ := r.props[name].([]any); return l }

// Func returns a Func property.
func (r *Resource) Func(name string) *LuaFunc { f, _ := r.props[name].(*LuaFunc); return f }

// Redacted renders the properties for an error report, hiding sensitive ones.
func (r *Resource) Redacted() string {
	keys := make([]string, 0, len(r.props))
	for k := range r.props {
		if r.set[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := r.props[k]
		if p, ok := r.Kind.prop(k); r.Sensitive || (ok && p.Sensitive) {
			v = "*sensitive value suppressed*"
		}
		fmt.Fprintf(&b, "  %s = %v\n", k, v)
	}
	return b.String()
}

// clone returns a shallow copy whose props can be replaced by resolved values.
func (r *Resource) clone() *Resource {
	c := *r
	c.props = make(map[string]any, len(r.props))
	for k, v := range r.props {
		c.props[k] = v
	}
	return &c
}
