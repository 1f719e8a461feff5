package resources

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// userKind is Chef's user (the linux provider): useradd, usermod and
// userdel, with the current state read from getent passwd and shadow.
// create also brings an existing user's attributes in line, as in Chef.
func userKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "user", Actions: []string{"create", "remove", "modify", "manage", "lock", "unlock"}, DefaultAction: "create",
		Doc: "manage a local user account",
		Props: []recipes.Prop{
			{Name: "username", Type: recipes.String, NameProperty: true},
			{Name: "uid", Type: recipes.String},
			{Name: "gid", Type: recipes.String},
			{Name: "home", Type: recipes.String},
			{Name: "shell", Type: recipes.String},
			{Name: "comment", Type: recipes.String},
			{Name: "system", Type: recipes.Bool},
			{Name: "manage_home", Type: recipes.Bool},
			// password is a crypt(3) hash, as in /etc/shadow.
			{Name: "password", Type: recipes.String, Sensitive: true},
		},
		Provider: recipes.ProviderFunc(planUser),
	}
}

// passwdEntry is a user as getent passwd and shadow describe it.
type passwdEntry struct {
	Name, UID, GID, Comment, Home, Shell string
	Hash                                 string // from shadow
}

// parsePasswd reads the fields of a getent passwd line; nil means absent.
func parsePasswd(f []string) *passwdEntry {
	if len(f) < 7 {
		return nil
	}
	return &passwdEntry{Name: f[0], UID: f[2], GID: f[3], Comment: f[4], Home: f[5], Shell: f[6]}
}

// locked reports whether a shadow hash is locked ("!…").
func (u *passwdEntry) locked() bool { return strings.HasPrefix(u.Hash, "!") }

func planUser(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	name := r.Str("username")
	f, err := getent(ctx, rc, "passwd", name)
	if err != nil {
		return nil, err
	}
	cur := parsePasswd(f)
	if cur != nil {
		if sh, err := getent(ctx, rc, "shadow", name); err == nil && len(sh) > 1 {
			cur.Hash = sh[1]
		}
	}
	gid, err := wantGID(ctx, rc, r.Str("gid"))
	if err != nil {
		return nil, err
	}
	switch {
	case action == "create" && cur == nil:
		return []recipes.Step{cmdStep(rc, "create user "+name, newCmd("useradd", userArgs(r, gid, nil, true)...))}, nil
	case action == "remove" && cur != nil:
		args := []string{name}
		if r.Bool("manage_home") {
			args = []string{"-r", name}
		}
		return []recipes.Step{cmdStep(rc, "remove user "+name, newCmd("userdel", args...))}, nil
	case cur == nil && action == "manage", action == "remove":
		return nil, nil
	case cur == nil:
		return nil, fmt.Errorf("cannot %s user %s: it does not exist", action, name)
	case action == "lock" && !cur.locked():
		return []recipes.Step{cmdStep(rc, "lock user "+name, newCmd("usermod", "-L", name))}, nil
	case action == "unlock" && cur.locked():
		return []recipes.Step{cmdStep(rc, "unlock user "+name, newCmd("usermod", "-U", name))}, nil
	case action == "lock", action == "unlock":
		return nil, nil
	}
	changes := userChanges(r, gid, cur)
	if len(changes) == 0 {
		return nil, nil
	}
	s := cmdStep(rc, "alter user "+name, newCmd("usermod", userArgs(r, gid, cur, false)...))
	return append([]recipes.Step{s}, noteSteps(changes...)...), nil
}

// wantGID resolves a gid property given by name to its number.
func wantGID(ctx context.Context, rc *recipes.RunContext, gid string) (string, error) {
	if _, err := strconv.Atoi(gid); gid == "" || err == nil {
		return gid, nil
	}
	f, err := getent(ctx, rc, "group", gid)
	if err != nil {
		return "", err
	}
	if len(f) < 3 {
		return "", fmt.Errorf("group %s does not exist", gid)
	}
	return f[2], nil
}

// userFields pairs the set properties with the current values.
func userFields(r *recipes.Resource, gid string, cur *passwdEntry) []struct{ prop, flag, want, have string } {
	c := passwdEntry{}
	if cur != nil {
		c = *cur
	}
	return []struct{ prop, flag, want, have string }{
		{"uid", "-u", r.Str("uid"), c.UID}, {"gid", "-g", gid, c.GID},
		{"comment", "-c", r.Str("comment"), c.Comment}, {"home", "-d", r.Str("home"), c.Home},
		{"shell", "-s", r.Str("shell"), c.Shell}, {"password", "-p", r.Str("password"), c.Hash},
	}
}

// userChanges describes the attributes that differ, Chef-style.
func userChanges(r *recipes.Resource, gid string, cur *passwdEntry) []string {
	var out []string
	for _, f := range userFields(r, gid, cur) {
		switch {
		case !r.IsSet(f.prop) || f.want == f.have:
		case f.prop == "password":
			out = append(out, "change password")
		default:
			out = append(out, fmt.Sprintf("change %s from %s to %s", f.prop, orDash(f.have), f.want))
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "''"
	}
	return s
}

// userArgs builds useradd's (create) or usermod's arguments: the flags of
// the properties that are set (for usermod, only those that differ).
func userArgs(r *recipes.Resource, gid string, cur *passwdEntry, create bool) []string {
	var args []string
	for _, f := range userFields(r, gid, cur) {
		if r.IsSet(f.prop) && (create || f.want != f.have) {
			args = append(args, f.flag, f.want)
			if f.prop == "home" && !create && r.Bool("manage_home") {
				args = append(args, "-m")
			}
		}
	}
	if create {
		if r.Bool("system") {
			args = append(args, "-r")
		}
		if r.Bool("manage_home") {
			args = append(args, "-m")
		} else {
			args = append(args, "-M")
		}
	}
	return append(args, r.Str("username"))
}
