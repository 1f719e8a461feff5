package resources

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

// What cron and cron_d share: the schedule and environment properties,
// their checks (one line each, so that no value can add a job), and the
// rendering of a job's lines.

var (
	cronFieldRe = lazyre.New(`^[A-Za-z0-9*/,-]{1,64}$`)
	cronEnvKey  = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
	cronUserRe  = lazyre.New(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	// cronTimes are Chef's cron time values (time = "daily").
	cronTimes = []string{"annually", "daily", "hourly", "midnight", "monthly", "reboot", "weekly", "yearly"}
)

// cronScheduleProps are the schedule and environment properties of cron
// and cron_d.
func cronScheduleProps() []recipes.Prop {
	return []recipes.Prop{
		{Name: "minute", Type: recipes.String, Default: "*"},
		{Name: "hour", Type: recipes.String, Default: "*"},
		{Name: "day", Type: recipes.String, Default: "*"},
		{Name: "month", Type: recipes.String, Default: "*"},
		{Name: "weekday", Type: recipes.String, Default: "*"},
		// command is required unless the only action is delete.
		{Name: "command", Type: recipes.String},
		{Name: "user", Type: recipes.String, Default: "root", Public: true},
		{Name: "mailto", Type: recipes.String},
		{Name: "path", Type: recipes.String},
		{Name: "home", Type: recipes.String},
		{Name: "shell", Type: recipes.String},
		{Name: "environment", Type: recipes.Map},
	}
}

// checkCronEntry checks that every value of a job fits on its line: the
// schedule fields are cron's tokens, the user a user name, the command and
// the variables one line each.
func checkCronEntry(r *recipes.Resource, when string) error {
	for _, f := range []string{"minute", "hour", "day", "month", "weekday"} {
		if v := r.Str(f); !cronFieldRe().MatchString(v) {
			return fmt.Errorf("property %s: %q is not a cron field (digits, names, * / , -)", f, v)
		}
	}
	if when != "" && !strings.HasPrefix(when, "@") {
		return fmt.Errorf("schedule %q: want @reboot, @daily, …", when)
	}
	if u := r.Str("user"); !cronUserRe().MatchString(u) {
		return fmt.Errorf("property user: %q is not a user name", u)
	}
	deleteOnly := len(r.Actions) == 1 && r.Actions[0] == "delete"
	if c := r.Str("command"); (c == "" && !deleteOnly) || strings.ContainsAny(c, "\n\r") {
		return fmt.Errorf("property command: want one non-empty line, got %q", c)
	}
	for _, p := range []string{"mailto", "path", "home", "shell"} {
		if strings.ContainsAny(r.Str(p), "\n\r") {
			return fmt.Errorf("property %s: want one line, got %q", p, r.Str(p))
		}
	}
	for k, v := range r.Map("environment") {
		if !cronEnvKey().MatchString(k) || strings.ContainsAny(fmt.Sprint(v), "\n\r") {
			return fmt.Errorf("property environment: %s=%q: want NAME=one line", k, fmt.Sprint(v))
		}
	}
	return nil
}

// cronEnvLines renders MAILTO, PATH, SHELL, HOME and the environment.
func cronEnvLines(b *bytes.Buffer, r *recipes.Resource) {
	for _, kv := range [][2]string{{"MAILTO", "mailto"}, {"PATH", "path"}, {"SHELL", "shell"}, {"HOME", "home"}} {
		if v := r.Str(kv[1]); v != "" {
			fmt.Fprintf(b, "%s=%s\n", kv[0], v)
		}
	}
	for _, e := range envList(r.Map("environment")) {
		b.WriteString(e + "\n")
	}
}

// cronSchedule is when, or else the five fields.
func cronSchedule(r *recipes.Resource, when string) string {
	if when != "" {
		return when
	}
	return strings.Join([]string{r.Str("minute"), r.Str("hour"), r.Str("day"), r.Str("month"), r.Str("weekday")}, " ")
}
