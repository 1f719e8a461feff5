package resources

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/recipes"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// cronKind is Chef's cron, implemented as Chef's cron_d does: each job is
// its own file /etc/cron.d/NAME (mode 0644, dots in the name turned into
// dashes as cron ignores such files) with a header, the environment lines
// and one crontab line that names the user. We chose cron_d over editing
// users' crontabs with crontab(1) because a whole file is written
// atomically, is idempotent by comparing content, and never touches the
// jobs that people or packages keep in their crontabs.
func cronKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "cron", Actions: []string{"create", "delete"}, DefaultAction: "create",
		Doc: "manage a cron job in /etc/cron.d",
		Props: []recipes.Prop{
			{Name: "minute", Type: recipes.String, Default: "*"},
			{Name: "hour", Type: recipes.String, Default: "*"},
			{Name: "day", Type: recipes.String, Default: "*"},
			{Name: "month", Type: recipes.String, Default: "*"},
			{Name: "weekday", Type: recipes.String, Default: "*"},
			// predefined_value (@reboot, @daily, …) replaces the five fields.
			{Name: "predefined_value", Type: recipes.String},
			{Name: "command", Type: recipes.String},
			{Name: "user", Type: recipes.String, Default: "root"},
			{Name: "mailto", Type: recipes.String},
			{Name: "path", Type: recipes.String},
			{Name: "home", Type: recipes.String},
			{Name: "shell", Type: recipes.String},
			{Name: "environment", Type: recipes.Map},
		},
		Provider: recipes.ProviderFunc(planCron),
	}
}

// cronFile is the file of a cron job in /etc/cron.d.
func cronFile(name string) (string, error) {
	n := strings.ReplaceAll(name, ".", "-")
	if n == "" || strings.ContainsAny(n, "/ \t\n") {
		return "", fmt.Errorf("cron name %q cannot name a file in /etc/cron.d", name)
	}
	return "/etc/cron.d/" + n, nil
}

// cronContent renders a job's cron.d file.
func cronContent(r *recipes.Resource) ([]byte, error) {
	if r.Str("command") == "" {
		return nil, fmt.Errorf("cron %s: command is required", r.Name)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Crontab for %s managed by stackagent. Changes will be overwritten.\n", r.Name)
	for _, kv := range [][2]string{{"MAILTO", "mailto"}, {"PATH", "path"}, {"SHELL", "shell"}, {"HOME", "home"}} {
		if v := r.Str(kv[1]); v != "" {
			fmt.Fprintf(&b, "%s=%s\n", kv[0], v)
		}
	}
	for _, e := range envList(r.Map("environment")) {
		b.WriteString(e + "\n")
	}
	when := r.Str("predefined_value")
	if when == "" {
		when = strings.Join([]string{r.Str("minute"), r.Str("hour"), r.Str("day"), r.Str("month"), r.Str("weekday")}, " ")
	}
	fmt.Fprintf(&b, "%s %s %s\n", when, r.Str("user"), r.Str("command"))
	return b.Bytes(), nil
}

func planCron(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	name, err := cronFile(r.Name)
	if err != nil {
		return nil, err
	}
	file := rc.Path(name)
	cur, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	present := err == nil
	if action == "delete" {
		if !present {
			return nil, nil
		}
		return []recipes.Step{{Desc: "delete file " + name, Apply: func(context.Context) error { return os.Remove(file) }}}, nil
	}
	want, err := cronContent(r)
	if err != nil {
		return nil, err
	}
	fi, _ := os.Stat(file)
	if present && bytes.Equal(cur, want) && fi.Mode().Perm() == 0o644 {
		return nil, nil
	}
	desc := "create cron.d file " + name
	if present {
		desc = "update cron.d file " + name
	}
	return []recipes.Step{{Desc: desc, Apply: func(context.Context) error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		return atomicfile.WriteFile(file, want, 0o644)
	}}}, nil
}
