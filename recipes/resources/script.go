package resources

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// interpreterRe is an interpreter: an absolute path or a program name
// looked up in PATH, never a command line.
var interpreterRe = lazyre.New(`^(/[A-Za-z0-9._+/-]+|[A-Za-z0-9._+-]+)$`)

// scriptKinds are Chef's script (any interpreter), python and perl: like
// bash, code is written to a private temporary file that the interpreter
// runs as argv (interpreter, flags split into words, the file), with
// execute's properties; the name is a label.
func scriptKinds() []*recipes.Kind {
	return []*recipes.Kind{
		interpreterKind("script", "", "run a script with the interpreter given"),
		interpreterKind("python", "python3", "run a Python script (python3)"),
		interpreterKind("perl", "perl", "run a Perl script"),
	}
}

func interpreterKind(name, interpreter, doc string) *recipes.Kind {
	props := []recipes.Prop{
		{Name: "code", Type: recipes.String, Required: true},
		{Name: "flags", Type: recipes.String, Default: ""},
	}
	if interpreter == "" {
		props = append(props, recipes.Prop{Name: "interpreter", Type: recipes.String, Required: true, Public: true,
			Note: "a program name or absolute path"})
	}
	return &recipes.Kind{
		Name: name, Actions: []string{"run"}, DefaultAction: "run",
		Doc:   doc,
		Props: append(props, execProps()...),
		Provider: recipes.ProviderFunc(func(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
			prog := interpreter
			if prog == "" {
				prog = r.Str("interpreter")
			}
			if !interpreterRe().MatchString(prog) || strings.Contains(prog, "..") {
				return nil, fmt.Errorf("property interpreter: %q is not a program name or absolute path", prog)
			}
			return planCommand(rc, r, fmt.Sprintf("execute %q script %s", prog, r.Name), func(ctx context.Context, c recipes.Command) error {
				script, err := writeScript(r.Str("code"), c.User)
				if err != nil {
					return err
				}
				defer os.Remove(script)
				c.Path, c.Args = prog, append(strings.Fields(r.Str("flags")), script)
				return runCommand(ctx, rc, r, c)
			})
		}),
		GuardBase: execGuardBase,
	}
}
