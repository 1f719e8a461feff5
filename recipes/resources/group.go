package resources

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// groupKind is Chef's group (the linux provider): groupadd, groupmod and
// gpasswd, with the current state from getent group. members replaces the
// member list unless append is true; unset, it leaves members alone.
func groupKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "group", Actions: []string{"create", "remove", "modify", "manage"}, DefaultAction: "create",
		Doc: "manage a local group",
		Props: []recipes.Prop{
			{Name: "group_name", Type: recipes.String, NameProperty: true},
			{Name: "gid", Type: recipes.String},
			{Name: "members", Type: recipes.StringList},
			{Name: "append", Type: recipes.Bool},
			{Name: "system", Type: recipes.Bool},
		},
		Provider: recipes.ProviderFunc(planGroup),
	}
}

// groupEntry is a group as getent group describes it.
type groupEntry struct {
	Name, GID string
	Members   []string
}

// parseGroup reads the fields of a getent group line; nil means absent.
func parseGroup(f []string) *groupEntry {
	if len(f) < 4 {
		return nil
	}
	g := &groupEntry{Name: f[0], GID: f[2]}
	for _, m := range strings.Split(f[3], ",") {
		if m != "" {
			g.Members = append(g.Members, m)
		}
	}
	return g
}

func planGroup(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	name := r.Str("group_name")
	f, err := getent(ctx, rc, "group", name)
	if err != nil {
		return nil, err
	}
	cur := parseGroup(f)
	var steps []recipes.Step
	switch {
	case action == "remove" && cur != nil:
		return []recipes.Step{cmdStep(rc, "remove group "+name, newCmd("groupdel", name))}, nil
	case action == "remove", action == "manage" && cur == nil:
		return nil, nil
	case action == "modify" && cur == nil:
		return nil, fmt.Errorf("cannot modify group %s: it does not exist", name)
	case cur == nil:
		args := []string{}
		if gid := r.Str("gid"); gid != "" {
			args = append(args, "-g", gid)
		}
		if r.Bool("system") {
			args = append(args, "-r")
		}
		steps = append(steps, cmdStep(rc, "create group "+name, newCmd("groupadd", append(args, name)...)))
		cur = &groupEntry{Name: name}
	case r.IsSet("gid") && r.Str("gid") != cur.GID:
		steps = append(steps, cmdStep(rc, fmt.Sprintf("change gid %s to %s", cur.GID, r.Str("gid")), newCmd("groupmod", "-g", r.Str("gid"), name)))
	}
	if r.IsSet("members") {
		steps = append(steps, memberSteps(rc, name, cur.Members, r.Strings("members"), r.Bool("append"))...)
	}
	return steps, nil
}

// memberSteps brings the member list to want: adds the missing ones when
// appending, else sets the list exactly.
func memberSteps(rc *recipes.RunContext, group string, have, want []string, appendOnly bool) []recipes.Step {
	var missing []string
	for _, m := range want {
		if !slices.Contains(have, m) {
			missing = append(missing, m)
		}
	}
	if appendOnly {
		var steps []recipes.Step
		for _, m := range missing {
			steps = append(steps, cmdStep(rc, fmt.Sprintf("add member %s to group %s", m, group), newCmd("gpasswd", "-a", m, group)))
		}
		return steps
	}
	h, w := append([]string(nil), have...), append([]string(nil), want...)
	sort.Strings(h)
	sort.Strings(w)
	if strings.Join(h, ",") == strings.Join(w, ",") {
		return nil
	}
	return []recipes.Step{cmdStep(rc, fmt.Sprintf("replace group members %s with %s", orDash(strings.Join(have, ", ")), orDash(strings.Join(want, ", "))),
		newCmd("gpasswd", "-M", strings.Join(want, ","), group))}
}
