package resources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/recipes"
)

// cronKind is Chef's cron: an entry in the user's crontab, marked with a
// "# Chef Name: NAME" line as Chef marks it (so crontabs Chef managed
// keep working), followed by its environment lines and the job line.
// Other lines of the crontab are left as they are. The crontab is the
// spool file crontab(1) keeps (/var/spool/cron/crontabs/USER on Debian,
// /var/spool/cron/USER on RHEL), replaced atomically with the owner and
// mode crontab(1) gives it; cron rereads it when the directory changes.
func cronKind() *recipes.Kind {
	props := append([]recipes.Prop{
		// time (Chef's :daily, :reboot, …) replaces the five fields.
		{Name: "time", Type: recipes.String, OneOf: cronTimes},
	}, cronScheduleProps()...)
	return &recipes.Kind{
		Name: "cron", Actions: []string{"create", "delete"}, DefaultAction: "create",
		Doc:      "manage an entry of a user's crontab",
		Props:    props,
		Provider: recipes.ProviderFunc(planCron),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error {
			if strings.ContainsAny(r.Name, "\n\r") {
				return errors.New("the name of a cron entry must be one line")
			}
			return checkCronEntry(r, cronTime(r))
		},
	}
}

func cronTime(r *recipes.Resource) string {
	if t := r.Str("time"); t != "" {
		return "@" + t
	}
	return ""
}

const cronMarker = "# Chef Name: "

// cronSpool is the host's crontab spool directory.
func cronSpool(rc *recipes.RunContext) (string, error) {
	for _, d := range []string{"/var/spool/cron/crontabs", "/var/spool/cron"} {
		if fi, err := os.Stat(rc.Path(d)); err == nil && fi.IsDir() {
			return d, nil
		}
	}
	return "", errors.New("no crontab spool directory (/var/spool/cron/crontabs or /var/spool/cron): install cron first")
}

// cronEntry renders the entry's lines.
func cronEntry(r *recipes.Resource) []string {
	var b bytes.Buffer
	b.WriteString(cronMarker + r.Name + "\n")
	cronEnvLines(&b, r)
	fmt.Fprintf(&b, "%s %s\n", cronSchedule(r, cronTime(r)), r.Str("command"))
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// findCronEntry returns the lines [i, j) of the entry named name: its
// marker, the variable lines after it and the job line.
func findCronEntry(lines []string, name string) (int, int, bool) {
	i := slices.Index(lines, cronMarker+name)
	if i < 0 {
		return 0, 0, false
	}
	j := i + 1
	for j < len(lines) && cronEnvKey().MatchString(strings.TrimSpace(strings.SplitN(lines[j], "=", 2)[0])) && strings.Contains(lines[j], "=") {
		j++
	}
	if j < len(lines) {
		j++ // the job line
	}
	return i, j, true
}

func planCron(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	spool, err := cronSpool(rc)
	if err != nil {
		return nil, err
	}
	u := r.Str("user")
	file := rc.Path(filepath.Join(spool, u))
	cur, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var lines []string
	if len(cur) > 0 {
		lines = strings.Split(strings.TrimSuffix(string(cur), "\n"), "\n")
	}
	i, j, found := findCronEntry(lines, r.Name)
	var next []string
	switch {
	case action == "delete" && !found:
		return nil, nil
	case action == "delete":
		next = slices.Concat(lines[:i], lines[j:])
	case found && slices.Equal(lines[i:j], cronEntry(r)):
		return nil, nil
	case found:
		next = slices.Concat(lines[:i], cronEntry(r), lines[j:])
	default:
		next = append(slices.Clone(lines), cronEntry(r)...)
	}
	verb := map[bool]string{true: "update", false: "add"}[found]
	if action == "delete" {
		verb = "remove"
	}
	var data []byte
	if len(next) > 0 {
		data = []byte(strings.Join(next, "\n") + "\n")
	}
	return []recipes.Step{{Desc: fmt.Sprintf("%s crontab entry %q of user %s", verb, r.Name, u),
		Apply: func(context.Context) error { return writeCrontab(file, u, data) }}}, nil
}

// writeCrontab replaces a user's crontab as crontab(1) leaves it: owned by
// the user (group crontab where it exists), mode 0600.
func writeCrontab(file, name string, data []byte) error {
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup(name)
		if err != nil {
			return fmt.Errorf("crontab of %s: %w", name, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		if g, err := user.LookupGroup("crontab"); err == nil && strings.HasSuffix(filepath.Dir(file), "crontabs") {
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	return atomicfile.Write(file, 0o600, func(w io.Writer) error {
		if f, ok := w.(*os.File); ok && uid >= 0 {
			if err := f.Chown(uid, gid); err != nil {
				return err
			}
		}
		_, err := w.Write(data)
		return err
	})
}
