// Package sdk is what a stackagent resource-provider plugin imports: the
// Provider interface a plugin author implements, the types it sees, and
// Serve, which runs the plugin's gRPC server (protocol provider/v1, see
// proto/provider/v1/provider.proto) under hashicorp/go-plugin.
//
// A plugin's main is one line:
//
//	func main() { sdk.Serve(&myProvider{}) }
//
// The package also holds the client and server shims between the Provider
// interface and the gRPC protocol; the agent uses the client side. It
// does not depend on the agent's engine.
package sdk

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
)

// Provider is implemented by a plugin. The agent calls Schema once, then,
// for each resource of its kinds and each action, Load and Test, and
// Apply when Test listed changes and the run is not a why-run. Every
// method gets the run's context: it is cancelled when the run is
// (SIGTERM) or the call's deadline passes, and the method must then return
// promptly. An error fails the resource; its text is shown to the
// operator, so it should name what failed.
type Provider interface {
	// Schema declares the kinds the plugin provides. It must not depend on
	// the host's state: the agent caches it by the plugin's checksum.
	Schema(ctx context.Context) ([]Kind, error)
	// Load reads the current state of r. It must not change the host.
	Load(ctx context.Context, r *Resource) (State, error)
	// Test lists the changes that would bring r from current to the state
	// its action asks for; none means up to date. It must not change the
	// host.
	Test(ctx context.Context, r *Resource, current State) ([]Change, error)
	// Apply makes the changes Test listed. It is never called in why-run.
	Apply(ctx context.Context, r *Resource, current State) error
}

// Type is what the agent's DSL accepts for a property; it checks it when
// the recipes compile, before any plugin call.
type Type int

// The property types (the values of provider.v1.Type).
const (
	String     Type = iota // a string; numbers are converted
	Bool                   // true or false
	Int                    // an integral number
	Number                 // any number
	StringList             // a string or a list of strings; Resource.Strings
	Map                    // a table with string keys; Resource.Map
	List                   // a list; Resource.List
	Mode                   // a file mode; a string of octal digits ("0644")
	Any                    // any value JSON can represent
)

// Kind declares one resource kind.
type Kind struct {
	Name          string
	Doc           string
	Actions       []string
	DefaultAction string
	Props         []Prop
}

// Prop declares one property of a kind.
type Prop struct {
	Name string
	Type Type
	// Default is the value when the recipe sets none (nil: none). It must
	// be a string, bool, number, []string, []any or map[string]any.
	Default      any
	NameProperty bool
	Required     bool
	Sensitive    bool
	OneOf        []string
}

// State is the current state Load found, handed back to Test and Apply.
type State map[string]string

// Change is one change Apply would make: Desc is shown to the operator
// (in why-run as "Would <Desc>"); Diff, optional, is a unified diff.
type Change struct {
	Desc string
	Diff string
}

// Resource is one resource as declared in a recipe.
type Resource struct {
	Kind   string
	Name   string
	Action string
	// Props holds every declared property (set or defaulted). Numbers are
	// float64 or int64; lists []any or []string: use the accessors.
	Props map[string]any
	// Set names the properties the recipe set explicitly.
	Set map[string]bool
	// Root, when not empty, is prefixed to every host path (see Path).
	Root      string
	WhyRun    bool
	Sensitive bool
	// Log writes to the agent's log, tagged with the plugin and resource.
	// Set by Serve; never nil in a provider's method.
	Log *slog.Logger
}

// ID names the resource as the agent does: kind[name].
func (r *Resource) ID() string { return r.Kind + "[" + r.Name + "]" }

// IsSet reports whether the recipe set the property.
func (r *Resource) IsSet(name string) bool { return r.Set[name] }

// Path maps an absolute host path into the run's root.
func (r *Resource) Path(p string) string {
	if r.Root == "" {
		return p
	}
	return filepath.Join(r.Root, filepath.Clean("/"+p))
}

// Str returns a String or Mode property, "" when unset.
func (r *Resource) Str(name string) string {
	switch v := r.Props[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// Bool returns a Bool property.
func (r *Resource) Bool(name string) bool { b, _ := r.Props[name].(bool); return b }

// Int returns an Int property.
func (r *Resource) Int(name string) int64 {
	switch v := r.Props[name].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// Num returns a Number property.
func (r *Resource) Num(name string) float64 {
	switch v := r.Props[name].(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// Strings returns a StringList property.
func (r *Resource) Strings(name string) []string {
	switch v := r.Props[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

// Map returns a Map property.
func (r *Resource) Map(name string) map[string]any { m, _ := r.Props[name].(map[string]any); return m }

// List returns a List property.
func (r *Resource) List(name string) []any { l, _ := r.Props[name].([]any); return l }
