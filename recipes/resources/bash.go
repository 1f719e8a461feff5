package resources

import (
	"context"
	"os"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// bashKind is Chef's bash: code is written to a temporary script that
// /bin/bash runs with flags; the name is only a label. It has execute's
// properties and, like execute, runs on every converge unless creates or
// a guard says otherwise.
func bashKind() *recipes.Kind {
	props := append([]recipes.Prop{
		{Name: "code", Type: recipes.String, Required: true},
		{Name: "flags", Type: recipes.String, Default: ""},
	}, execProps()...)
	return &recipes.Kind{
		Name: "bash", Actions: []string{"run"}, DefaultAction: "run",
		Doc:       "run a bash script",
		Props:     props,
		Provider:  recipes.ProviderFunc(planBash),
		GuardBase: execGuardBase,
	}
}

func planBash(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	return planCommand(rc, r, "execute \"bash\" script "+r.Name, func(ctx context.Context, c recipes.Command) error {
		script, err := writeScript(r.Str("code"), c.User)
		if err != nil {
			return err
		}
		defer os.Remove(script)
		c.Path = "/bin/bash"
		c.Args = append(strings.Fields(r.Str("flags")), script)
		return runCommand(ctx, rc, r, c)
	})
}

// writeScript writes code to a private temporary file, owned by user when
// one is given so that user can read it.
func writeScript(code, user string) (string, error) {
	f, err := os.CreateTemp("", "stackagent-script-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.WriteString(code)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && user != "" {
		var uid int
		if uid, err = recipes.LookupUID(user); err == nil {
			err = os.Chown(name, uid, -1)
		}
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}
