package sdk

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	providerv1 "github.com/stackagent/stackagent/proto/provider/v1"
)

// KindsToPB converts declared kinds to the wire.
func KindsToPB(kinds []Kind) ([]*providerv1.Kind, error) {
	out := make([]*providerv1.Kind, 0, len(kinds))
	for _, k := range kinds {
		pk, err := kindToPB(k)
		if err != nil {
			return nil, err
		}
		out = append(out, pk)
	}
	return out, nil
}

func kindToPB(k Kind) (*providerv1.Kind, error) {
	pk := &providerv1.Kind{Name: k.Name, Doc: k.Doc, Actions: k.Actions, DefaultAction: k.DefaultAction}
	for _, p := range k.Props {
		pp := &providerv1.Prop{Name: p.Name, Type: providerv1.Type(p.Type), NameProperty: p.NameProperty,
			Required: p.Required, Sensitive: p.Sensitive, OneOf: p.OneOf}
		if p.Default != nil {
			v, err := ToValue(p.Default)
			if err != nil {
				return nil, fmt.Errorf("kind %s: default of %s: %w", k.Name, p.Name, err)
			}
			pp.Default = v
		}
		pk.Props = append(pk.Props, pp)
	}
	return pk, nil
}

// KindsFromPB converts declared kinds from the wire.
func KindsFromPB(pks []*providerv1.Kind) ([]Kind, error) {
	out := make([]Kind, 0, len(pks))
	for _, pk := range pks {
		k := Kind{Name: pk.GetName(), Doc: pk.GetDoc(), Actions: pk.GetActions(), DefaultAction: pk.GetDefaultAction()}
		for _, pp := range pk.GetProps() {
			t := Type(pp.GetType())
			if t < String || t > Any {
				return nil, fmt.Errorf("kind %s: property %s has unknown type %d", k.Name, pp.GetName(), pp.GetType())
			}
			p := Prop{Name: pp.GetName(), Type: t, NameProperty: pp.GetNameProperty(),
				Required: pp.GetRequired(), Sensitive: pp.GetSensitive(), OneOf: pp.GetOneOf()}
			if pp.Default != nil {
				p.Default = pp.Default.AsInterface()
			}
			k.Props = append(k.Props, p)
		}
		out = append(out, k)
	}
	return out, nil
}

// ToValue converts a property value to the wire. It accepts what the
// agent's properties hold: nil, string, bool, integers, floats, []string,
// []any and map[string]any of those.
func ToValue(v any) (*structpb.Value, error) {
	n, err := normalize(v)
	if err != nil {
		return nil, err
	}
	return structpb.NewValue(n)
}

func normalize(v any) (any, error) {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = n
		}
		return out, nil
	case nil, string, bool, int, int32, int64, uint32, uint64, float32, float64:
		return x, nil
	}
	return nil, fmt.Errorf("a %T cannot be sent to a plugin", v)
}

func resourceToPB(r *Resource) (*providerv1.Resource, error) {
	pr := &providerv1.Resource{Kind: r.Kind, Name: r.Name, Action: r.Action, Root: r.Root,
		WhyRun: r.WhyRun, Sensitive: r.Sensitive, Props: make(map[string]*structpb.Value, len(r.Props))}
	for k, v := range r.Props {
		pv, err := ToValue(v)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", k, err)
		}
		pr.Props[k] = pv
	}
	for k, set := range r.Set {
		if set {
			pr.Set = append(pr.Set, k)
		}
	}
	return pr, nil
}

func resourceFromPB(pr *providerv1.Resource) *Resource {
	r := &Resource{Kind: pr.GetKind(), Name: pr.GetName(), Action: pr.GetAction(), Root: pr.GetRoot(),
		WhyRun: pr.GetWhyRun(), Sensitive: pr.GetSensitive(),
		Props: make(map[string]any, len(pr.GetProps())), Set: make(map[string]bool, len(pr.GetSet()))}
	for k, v := range pr.GetProps() {
		r.Props[k] = v.AsInterface()
	}
	for _, k := range pr.GetSet() {
		r.Set[k] = true
	}
	return r
}

func stateToPB(s State) *providerv1.State { return &providerv1.State{Values: s} }

func stateFromPB(s *providerv1.State) State {
	if s == nil || s.Values == nil {
		return State{}
	}
	return State(s.Values)
}

func changesToPB(cs []Change) []*providerv1.Change {
	out := make([]*providerv1.Change, len(cs))
	for i, c := range cs {
		out[i] = &providerv1.Change{Desc: c.Desc, Diff: c.Diff}
	}
	return out
}

func changesFromPB(pcs []*providerv1.Change) []Change {
	out := make([]Change, len(pcs))
	for i, c := range pcs {
		out[i] = Change{Desc: c.GetDesc(), Diff: c.GetDiff()}
	}
	return out
}
