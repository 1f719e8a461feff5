package resources

import (
	"context"
	"fmt"

	"github.com/stackagent/stackagent/recipes"
)

// execProps are the properties execute and bash share.
func execProps() []recipes.Prop {
	return []recipes.Prop{
		{Name: "cwd", Type: recipes.String},
		{Name: "environment", Type: recipes.Map},
		{Name: "user", Type: recipes.String},
		{Name: "group", Type: recipes.String},
		{Name: "creates", Type: recipes.String},
		{Name: "timeout", Type: recipes.Number, Default: 3600.0},
		// returns takes an exit status or a list of them.
		{Name: "returns", Type: recipes.Any, Default: []any{int64(0)}},
	}
}

// executeKind is Chef's execute: the command runs through /bin/sh -c. As
// in Chef it runs (and counts as updated) on every converge unless creates
// names a path that exists or a guard skips it.
func executeKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "execute", Actions: []string{"run"}, DefaultAction: "run",
		Doc:      "run a command",
		Props:    append([]recipes.Prop{{Name: "command", Type: recipes.String, NameProperty: true}}, execProps()...),
		Provider: recipes.ProviderFunc(planExecute),
	}
}

func planExecute(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	return planCommand(rc, r, "execute "+r.Str("command"), func(ctx context.Context, c recipes.Command) error {
		c.Path, c.Args = "/bin/sh", []string{"-c", r.Str("command")}
		return runCommand(ctx, rc, r, c)
	})
}

// planCommand is the plan of execute and bash: nothing when creates
// exists, else one step that runs the command built from the resource's
// cwd, environment, user, group and timeout.
func planCommand(rc *recipes.RunContext, r *recipes.Resource, desc string, apply func(context.Context, recipes.Command) error) ([]recipes.Step, error) {
	if _, err := returnCodes(r); err != nil {
		return nil, err
	}
	if c := r.Str("creates"); c != "" && pathExists(rc.Path(c)) {
		return nil, nil
	}
	base := recipes.Command{Dir: r.Str("cwd"), Env: envList(r.Map("environment")),
		User: r.Str("user"), Group: r.Str("group"), Timeout: secondsProp(r, "timeout")}
	return []recipes.Step{{Desc: desc, Apply: func(ctx context.Context) error { return apply(ctx, base) }}}, nil
}

// runCommand runs c and checks its exit status against returns.
func runCommand(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, c recipes.Command) error {
	want, _ := returnCodes(r)
	_, err := runWant(ctx, rc, c, want, r.Sensitive)
	return err
}

// returnCodes reads the returns property: an integer or a list of them.
func returnCodes(r *recipes.Resource) ([]int, error) {
	switch v := r.Get("returns").(type) {
	case int64:
		return []int{int(v)}, nil
	case []any:
		out := make([]int, len(v))
		for i, e := range v {
			n, ok := e.(int64)
			if !ok {
				return nil, fmt.Errorf("property returns: item %d: want an integer, got %v", i+1, e)
			}
			out[i] = int(n)
		}
		return out, nil
	}
	return nil, fmt.Errorf("property returns: want an integer or a list of integers, got %v", r.Get("returns"))
}
