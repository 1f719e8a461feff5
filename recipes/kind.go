// Package recipes is the converge engine: the Lua runtime and its DSL, the
// resource collection, guards, notifications, why-run, node attributes,
// templates and run reports. It knows nothing of SQS or AWS events.
//
// A resource kind (file, package, service, …) is a Kind registered in a
// Registry: its properties with their types, its actions, and a Provider
// that plans the steps that bring the host to the declared state. The
// engine, not the provider, owns guards, retries, notifications, why-run,
// panic recovery and output.
package recipes

import (
	"context"
	"fmt"
	"sort"
)

// Type is the type of a resource property as the DSL checks it at compile
// time.
type Type int

const (
	// String accepts a Lua string (numbers are converted to their decimal form).
	String Type = iota
	// Bool accepts true or false.
	Bool
	// Int accepts an integral number.
	Int
	// Number accepts any number.
	Number
	// StringList accepts a string or a list of strings; the provider sees []string.
	StringList
	// Map accepts a table with string keys; the provider sees map[string]any.
	Map
	// List accepts a list; the provider sees []any.
	List
	// Func accepts a Lua function; the provider sees *LuaFunc.
	Func
	// Mode accepts a file mode: a string of octal digits ("0644", "644",
	// "2755") or a number that is the mode's value, as in Chef (420 is
	// 0644); the provider sees a string of four octal digits.
	Mode
	// Any accepts any value.
	Any
)

var typeNames = map[Type]string{
	String: "string", Bool: "boolean", Int: "integer", Number: "number",
	StringList: "string or list of strings", Map: "table", List: "list",
	Func: "function", Mode: "file mode (\"0644\", or 420 as in Chef)", Any: "any",
}

func (t Type) String() string { return typeNames[t] }

// Prop declares one property of a resource kind.
type Prop struct {
	Name string
	Type Type
	// Default is the value when the recipe does not set the property. It must
	// already be of the Go type the provider expects (see Type).
	Default any
	// NameProperty marks the property that defaults to the resource's name
	// (Chef's name_property), e.g. path for file, package_name for package.
	NameProperty bool
	// Required makes a missing value a compile error.
	Required bool
	// Sensitive values are never shown in output, diffs or reports.
	Sensitive bool
	// Public values (a path, an owner, a mode) are shown even when the whole
	// resource is marked sensitive; every other value of a sensitive
	// resource is hidden, as is its content diff.
	Public bool
	// OneOf, when set, lists the accepted values of a String property.
	OneOf []string
	// Note is shown in the reference (docs/resources.md).
	Note string
}

// Step is one change a provider would make. The context given to Plan is
// cancelled once the resource's action is over, whether or not its steps
// were applied, so a provider may tie clean-up (a temporary download) to
// it with context.AfterFunc. Desc is shown to the operator
// ("create new file /etc/x", "install version 2.4.57 of package apache2");
// in why-run it is printed as "Would <Desc>". Diff, when set, is a unified
// diff of a content change; the engine hides it for sensitive resources.
// Apply makes the change; it is never called in why-run.
type Step struct {
	Desc  string
	Diff  string
	Apply func(ctx context.Context) error
}

// Provider converges resources of one kind.
//
// Plan inspects the host (reads only: it must not change anything) and
// returns the steps that would bring resource r to the state that action
// asks for, in the order they are to be applied. No steps means the resource
// is up to date. Plan is called once per action; it may be called without
// Apply (why-run). Errors are reported as the resource's failure.
type Provider interface {
	Plan(ctx context.Context, rc *RunContext, r *Resource, action string) ([]Step, error)
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context, rc *RunContext, r *Resource, action string) ([]Step, error)

// Plan calls f.
func (f ProviderFunc) Plan(ctx context.Context, rc *RunContext, r *Resource, action string) ([]Step, error) {
	return f(ctx, rc, r, action)
}

// Kind describes a resource kind.
type Kind struct {
	Name          string
	Actions       []string
	DefaultAction string
	Props         []Prop
	Provider      Provider
	// Validate, when set, is called once the recipes have compiled, for each
	// resource of the kind, to catch at compile time what the properties
	// alone cannot show (a template that is not in the cookbook, say). It
	// must not change the host. Lazy properties are not resolved yet.
	Validate func(rc *RunContext, r *Resource) error
	// GuardBase, when set, is the command a string only_if/not_if of the
	// resource starts from (Chef's guard interpreter: execute's guards
	// inherit its cwd, environment, user and group). The engine sets Path
	// and Args to /bin/sh -c GUARD.
	GuardBase func(r *Resource) Command
	// Doc is a one-line description shown by validate and the docs.
	Doc string
	// custom is set for a kind declared in Lua (COOKBOOK/resources/NAME.lua).
	custom *customDef
}

// prop returns the declaration of the named property.
func (k *Kind) prop(name string) (*Prop, bool) {
	for i := range k.Props {
		if k.Props[i].Name == name {
			return &k.Props[i], true
		}
	}
	return nil, false
}

func (k *Kind) hasAction(a string) bool {
	if a == "nothing" {
		return true
	}
	for _, x := range k.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Registry maps kind names to kinds. It is built by main (or a test) and
// passed to the engine; there is no global registry.
type Registry struct {
	kinds map[string]*Kind
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

// Register adds a kind; registering a name twice or an invalid kind is a
// programming error and panics.
func (g *Registry) Register(k *Kind) {
	if _, dup := g.kinds[k.Name]; dup {
		panic(fmt.Sprintf("recipes: kind %q registered twice", k.Name))
	}
	if k.Provider == nil || len(k.Actions) == 0 || !k.hasAction(k.DefaultAction) {
		panic(fmt.Sprintf("recipes: kind %q needs a provider, actions and a valid default action", k.Name))
	}
	for _, p := range k.Props {
		if _, reserved := commonProps[p.Name]; reserved {
			panic(fmt.Sprintf("recipes: kind %q redeclares common property %q", k.Name, p.Name))
		}
	}
	g.kinds[k.Name] = k
}

// Lookup returns the kind of that name.
func (g *Registry) Lookup(name string) (*Kind, bool) {
	k, ok := g.kinds[name]
	return k, ok
}

// Names lists the registered kinds, sorted.
func (g *Registry) Names() []string {
	out := make([]string, 0, len(g.kinds))
	for n := range g.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// commonProps are the properties every resource takes; the engine handles
// them.
var commonProps = map[string]Type{
	"action": StringList, "only_if": Any, "not_if": Any, "notifies": List,
	"subscribes": List, "ignore_failure": Any, "retries": Int,
	"retry_delay": Number, "sensitive": Bool,
}
