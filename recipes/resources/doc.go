package resources

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/recipes"
)

// Markdown renders the reference of every registered kind: actions,
// properties with types and defaults. docs/resources.md is this output
// (a test keeps it current).
func Markdown(reg *recipes.Registry) string {
	var b strings.Builder
	b.WriteString("# Built-in resources\n\n")
	b.WriteString("Generated from the code (`UPDATE_DOCS=1 go test ./recipes/resources -run TestResourcesDoc` rewrites it).\n")
	b.WriteString("Every resource also takes the common properties of [recipes.md](recipes.md#properties-every-resource-takes):\n")
	b.WriteString("`action`, `only_if`, `not_if`, `notifies`, `subscribes`, `ignore_failure`, `retries`, `retry_delay`, `sensitive`.\n\n")
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		fmt.Fprintf(&b, "## %s\n\n%s.\n\n", k.Name, upperFirst(k.Doc))
		acts := make([]string, len(k.Actions))
		for i, a := range k.Actions {
			acts[i] = "`" + a + "`"
			if a == k.DefaultAction {
				acts[i] += " (default)"
			}
		}
		if k.DefaultAction == "nothing" {
			acts = append(acts, "`nothing` (default)")
		}
		fmt.Fprintf(&b, "Actions: %s.\n\n", strings.Join(acts, ", "))
		if len(k.Props) == 0 {
			continue
		}
		b.WriteString("| property | type | default | notes |\n| --- | --- | --- | --- |\n")
		props := append([]recipes.Prop(nil), k.Props...)
		sort.SliceStable(props, func(i, j int) bool { return props[i].NameProperty && !props[j].NameProperty })
		for _, p := range props {
			var notes []string
			if p.NameProperty {
				notes = append(notes, "defaults to the resource's name")
			}
			if p.Required {
				notes = append(notes, "required")
			}
			if p.Sensitive {
				notes = append(notes, "sensitive: never shown")
			}
			if len(p.OneOf) > 0 {
				notes = append(notes, "one of "+strings.Join(p.OneOf, ", "))
			}
			if p.Note != "" {
				notes = append(notes, p.Note)
			}
			def := ""
			switch v := p.Default.(type) {
			case nil:
			case string:
				def = fmt.Sprintf("`%q`", v)
			default:
				def = fmt.Sprintf("`%v`", v)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, p.Type, def, strings.Join(notes, "; "))
		}
		b.WriteString("\n")
	}
	b.WriteString(chefCoreMarkdown())
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
