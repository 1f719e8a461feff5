package plugins

import (
	"context"
	"errors"
	"fmt"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/proto/sdk"
	"github.com/stackagent/stackagent/recipes"
)

var kindName = lazyre.New(`^[a-z][a-z0-9_]*$`)

// Register adds the kinds of every plugin of host to reg, so recipes can
// use them like built-ins: their properties are checked when the recipes
// compile. A plugin's kinds come from the schema cache or, failing that,
// from the plugin, which is started for it (and stays up for the run).
//
// A plugin whose schema cannot be had (it does not start, speaks another
// protocol, fails its checksum with nothing cached) or that declares a
// kind that clashes with a registered one is left out: its error, naming
// it, is in the returned error, and the other plugins are registered.
// A plugin that failed its checksum but whose schema is cached is
// registered, and each of its resources fails with the checksum error.
func Register(reg *recipes.Registry, host *Host) error {
	ctx, cancel := context.WithTimeout(context.Background(), host.opts.StartTimeout+host.opts.CallTimeout)
	defer cancel()
	var errs []error
	for _, name := range host.order {
		in := host.plugins[name]
		kinds, err := host.schema(ctx, in)
		if err != nil {
			errs = append(errs, in.wrap(fmt.Errorf("schema: %w", err)))
			continue
		}
		for _, k := range kinds {
			if err := register(reg, in, k); err != nil {
				errs = append(errs, in.wrap(fmt.Errorf("kind %q: %w", k.Name, err)))
			}
		}
	}
	return errors.Join(errs...)
}

func register(reg *recipes.Registry, in *instance, k sdk.Kind) (err error) {
	if !kindName().MatchString(k.Name) {
		return errors.New("a kind's name must match [a-z][a-z0-9_]*")
	}
	if _, dup := reg.Lookup(k.Name); dup {
		return errors.New("a kind of that name is already registered")
	}
	rk, err := toKind(in, k)
	if err != nil {
		return err
	}
	defer func() { // the registry panics on an invalid kind
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	reg.Register(rk)
	return nil
}

var types = map[sdk.Type]recipes.Type{
	sdk.String: recipes.String, sdk.Bool: recipes.Bool, sdk.Int: recipes.Int, sdk.Number: recipes.Number,
	sdk.StringList: recipes.StringList, sdk.Map: recipes.Map, sdk.List: recipes.List, sdk.Mode: recipes.Mode,
	sdk.Any: recipes.Any,
}

func toKind(in *instance, k sdk.Kind) (*recipes.Kind, error) {
	doc := k.Doc + " (plugin " + in.p.Name + ")"
	rk := &recipes.Kind{Name: k.Name, Actions: k.Actions, DefaultAction: k.DefaultAction, Doc: doc,
		Provider: &provider{in: in, kind: k}}
	for _, p := range k.Props {
		t, ok := types[p.Type]
		if !ok {
			return nil, fmt.Errorf("property %s: unknown type %d", p.Name, p.Type)
		}
		def, err := defaultValue(t, p.Default)
		if err != nil {
			return nil, fmt.Errorf("property %s: default: %w", p.Name, err)
		}
		rk.Props = append(rk.Props, recipes.Prop{Name: p.Name, Type: t, Default: def, NameProperty: p.NameProperty,
			Required: p.Required, Sensitive: p.Sensitive, OneOf: p.OneOf})
	}
	return rk, nil
}

// defaultValue converts a default from the wire (JSON types) to the Go
// type the engine gives providers for t.
func defaultValue(t recipes.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := fmt.Errorf("a %T is not a %s", v, t)
	switch t {
	case recipes.String, recipes.Mode:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, bad
	case recipes.Int:
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return int64(f), nil
		}
		return nil, bad
	case recipes.StringList:
		l, ok := v.([]any)
		if !ok {
			return nil, bad
		}
		out := make([]string, len(l))
		for i, e := range l {
			if out[i], ok = e.(string); !ok {
				return nil, bad
			}
		}
		return out, nil
	}
	return v, nil
}
