package resources

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

var sysctlKeyRe = lazyre.New(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$`)

// sysctlKind is Chef's sysctl: the value persisted in
// CONF_DIR/99-stackagent-KEY.conf (read at boot by systemd-sysctl or
// procps) and applied now with sysctl -w when the running kernel's value
// differs.
func sysctlKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "sysctl", Actions: []string{"apply", "remove"}, DefaultAction: "apply",
		Doc: "set a kernel parameter now and at boot (/etc/sysctl.d)",
		Props: []recipes.Prop{
			{Name: "key", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "value", Type: recipes.Any, Note: "string, number or list (joined by spaces)"},
			{Name: "comment", Type: recipes.StringList},
			{Name: "conf_dir", Type: recipes.String, Default: "/etc/sysctl.d", Public: true},
		},
		Provider: recipes.ProviderFunc(planSysctl),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error {
			if _, lazy := r.Get("value").(*recipes.Lazy); lazy {
				return nil
			}
			_, _, err := sysctlSpec(r)
			return err
		},
	}
}

// sysctlSpec checks the key and value and returns the value as sysctl
// prints it (words separated by one space) and the conf file's content.
func sysctlSpec(r *recipes.Resource) (string, []byte, error) {
	key := r.Str("key")
	if !sysctlKeyRe().MatchString(key) {
		return "", nil, fmt.Errorf("property key: %q is not a sysctl key (words of A-Z a-z 0-9 _ - joined by dots)", key)
	}
	if err := recipes.CheckPath("property conf_dir", r.Str("conf_dir")); err != nil {
		return "", nil, err
	}
	var words []string
	switch v := r.Get("value").(type) {
	case nil:
		if len(r.Actions) == 1 && r.Actions[0] == "remove" {
			return "", nil, nil
		}
		return "", nil, fmt.Errorf("property value is required to apply %s", key)
	case []any:
		for _, e := range v {
			words = append(words, fmt.Sprint(e))
		}
	default:
		words = strings.Fields(fmt.Sprint(v))
	}
	value := strings.Join(strings.Fields(strings.Join(words, " ")), " ")
	if value == "" || strings.ContainsAny(value, "=#;") {
		return "", nil, fmt.Errorf("property value: %q: want one line of words without = # ;", fmt.Sprint(r.Get("value")))
	}
	var b bytes.Buffer
	for _, c := range r.Strings("comment") {
		if strings.ContainsAny(c, "\n\r") {
			return "", nil, fmt.Errorf("property comment: want lines without line breaks")
		}
		fmt.Fprintf(&b, "# %s\n", c)
	}
	fmt.Fprintf(&b, "%s = %s\n", key, value)
	return value, b.Bytes(), nil
}

func sysctlFile(r *recipes.Resource) string {
	return filepath.Join(r.Str("conf_dir"), "99-stackagent-"+r.Str("key")+".conf")
}

func planSysctl(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	value, content, err := sysctlSpec(r)
	if err != nil {
		return nil, err
	}
	name := sysctlFile(r)
	file, cur, present, err := readOwned(rc, name)
	if err != nil {
		return nil, err
	}
	if action == "remove" {
		return removeOwned("remove", name, file, present), nil
	}
	var steps []recipes.Step
	if !present || !bytes.Equal(cur, content) {
		steps = append(steps, recipes.Step{Desc: fmt.Sprintf("persist %s = %s in %s", r.Str("key"), value, name),
			Apply: func(context.Context) error {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return err
				}
				return atomicfile.WriteFile(file, content, 0o644)
			}})
	}
	live, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(r.Str("key"), ".", "/"))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.Str("key"), err)
	}
	if got := strings.Join(strings.Fields(string(live)), " "); got != value {
		cmd := newCmd("sysctl", "-w", r.Str("key")+"="+value)
		steps = append(steps, recipes.Step{Desc: fmt.Sprintf("set %s from %s to %s", r.Str("key"), got, value),
			Apply: func(ctx context.Context) error { _, err := runWant(ctx, rc, cmd, []int{0}, false); return err }})
	}
	return steps, nil
}
