package plugins

import (
	"context"

	"github.com/stackagent/stackagent/proto/sdk"
	"github.com/stackagent/stackagent/recipes"
)

// provider is the recipes.Provider of a plugin kind: Plan asks the plugin
// to Load and Test the resource; the first of the steps it returns calls
// the plugin's Apply (the others only describe their change), so why-run,
// which never applies, never reaches Apply.
type provider struct {
	in   *instance
	kind sdk.Kind
}

var _ recipes.Provider = (*provider)(nil)

func (p *provider) Plan(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	sr := p.resource(rc, r, action)
	timeout := p.in.h.opts.CallTimeout
	var state sdk.State
	err := p.in.call(ctx, "load", timeout, func(ctx context.Context, prov sdk.Provider) error {
		var err error
		state, err = prov.Load(ctx, sr)
		return err
	})
	if err != nil {
		return nil, err
	}
	var changes []sdk.Change
	err = p.in.call(ctx, "test", timeout, func(ctx context.Context, prov sdk.Provider) error {
		var err error
		changes, err = prov.Test(ctx, sr, state)
		return err
	})
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	steps := make([]recipes.Step, len(changes))
	for i, c := range changes {
		steps[i] = recipes.Step{Desc: c.Desc, Diff: c.Diff}
	}
	steps[0].Apply = func(ctx context.Context) error {
		return p.in.call(ctx, "apply", p.in.h.opts.ApplyTimeout, func(ctx context.Context, prov sdk.Provider) error {
			return prov.Apply(ctx, sr, state)
		})
	}
	return steps, nil
}

// resource is what the plugin sees of r: every declared property, which
// of them the recipe set, the run's root and why-run.
func (p *provider) resource(rc *recipes.RunContext, r *recipes.Resource, action string) *sdk.Resource {
	sr := &sdk.Resource{Kind: p.kind.Name, Name: r.Name, Action: action, Root: rc.Root, WhyRun: rc.WhyRun,
		Sensitive: r.Sensitive, Props: make(map[string]any, len(p.kind.Props)), Set: map[string]bool{}}
	for _, prop := range p.kind.Props {
		if v := r.Get(prop.Name); v != nil {
			sr.Props[prop.Name] = v
		}
		if r.IsSet(prop.Name) {
			sr.Set[prop.Name] = true
		}
	}
	return sr
}
