package resources

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// executeKind is Chef's execute. A string command runs through /bin/sh
// -c; a list ({"a2enmod", "-q", mod}) is the program and its arguments,
// run without a shell, so a value in it is only ever one argument. As in
// Chef it runs (and counts as updated) on every converge unless creates
// names a path that exists or a guard skips it.
func executeKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "execute", Actions: []string{"run"}, DefaultAction: "run",
		Doc:       "run a command (a shell string, or a list: argv without a shell)",
		Props:     append([]recipes.Prop{{Name: "command", Type: recipes.Any, NameProperty: true}}, execProps()...),
		Provider:  recipes.ProviderFunc(planExecute),
		GuardBase: execGuardBase,
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error {
			if _, lazy := r.Get("command").(*recipes.Lazy); lazy {
				return nil
			}
			_, err := commandArgv(r)
			return err
		},
	}
}

func planExecute(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	argv, err := commandArgv(r)
	if err != nil {
		return nil, err
	}
	return planCommand(rc, r, "execute "+strings.Join(argv, " "), func(ctx context.Context, c recipes.Command) error {
		c.Path, c.Args = argv[0], argv[1:]
		return runCommand(ctx, rc, r, c)
	})
}

// commandArgv returns the argv of execute's command: a string is
// /bin/sh -c STRING, a list of strings is the argv itself.
func commandArgv(r *recipes.Resource) ([]string, error) {
	switch v := r.Get("command").(type) {
	case string:
		return []string{"/bin/sh", "-c", v}, nil
	case []any:
		argv := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("property command: item %d: want a string, got %v", i+1, e)
			}
			argv[i] = s
		}
		if len(argv) == 0 || argv[0] == "" {
			return nil, errors.New("property command: an empty argv")
		}
		return argv, nil
	}
	return nil, fmt.Errorf("property command: want a shell command string or a list of program and arguments, got %v", r.Get("command"))
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
	base := execGuardBase(r)
	base.Timeout = secondsProp(r, "timeout")
	return []recipes.Step{{Desc: desc, Apply: func(ctx context.Context) error { return apply(ctx, base) }}}, nil
}

// execGuardBase is the command a string guard of execute, bash and the
// script kinds starts from: the resource's cwd, environment, user and
// group, as Chef's guard interpreter gives them.
func execGuardBase(r *recipes.Resource) recipes.Command {
	return recipes.Command{Dir: r.Str("cwd"), Env: envList(r.Map("environment")), User: r.Str("user"), Group: r.Str("group")}
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
