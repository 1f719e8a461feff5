package resources

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/lazyre"
	"github.com/stackagent/stackagent/recipes"
)

var (
	unitNameRe    = lazyre.New(`^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|timer|target|mount|automount|path|slice|swap)$`)
	unitSectionRe = lazyre.New(`^[A-Za-z][A-Za-z0-9-]*$`)
	unitKeyRe     = lazyre.New(`^[A-Za-z][A-Za-z0-9]*$`)
)

func checkUnitName(name string) error {
	if !unitNameRe().MatchString(name) || strings.Contains(name, "..") || len(name) > 255 {
		return fmt.Errorf("unit_name %q: want NAME.service (or .socket, .timer, .target, .mount, .automount, .path, .slice, .swap) of A-Z a-z 0-9 : _ . \\ - @", name)
	}
	return nil
}

// unitContent renders content: a string as it is, or a table of sections
// ({ Unit = { Description = "…" }, Service = { ExecStart = "…" } }) as
// systemd's INI: [Unit] first, [Install] last, the others and every
// section's keys in name order; a list value repeats its key.
func unitContent(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if x != "" && !strings.HasSuffix(x, "\n") {
			x += "\n"
		}
		return []byte(x), nil
	case map[string]any:
		return unitINI(x)
	}
	return nil, fmt.Errorf("property content: want a string or a table of sections, got %v", v)
}

func unitINI(m map[string]any) ([]byte, error) {
	sections := make([]string, 0, len(m))
	for s := range m {
		if !unitSectionRe().MatchString(s) {
			return nil, fmt.Errorf("property content: section %q: want a name of A-Z a-z 0-9 -", s)
		}
		sections = append(sections, s)
	}
	rank := func(s string) int {
		if r, ok := map[string]int{"Unit": 0, "Install": 2}[s]; ok {
			return r
		}
		return 1
	}
	sort.Slice(sections, func(i, j int) bool {
		if ri, rj := rank(sections[i]), rank(sections[j]); ri != rj {
			return ri < rj
		}
		return sections[i] < sections[j]
	})
	var b strings.Builder
	for i, s := range sections {
		keys, ok := m[s].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("property content: section %s: want a table of keys", s)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\n", s)
		for _, k := range sortedKeys(keys) {
			if !unitKeyRe().MatchString(k) {
				return nil, fmt.Errorf("property content: %s.%s: want a key of A-Z a-z 0-9", s, k)
			}
			vals, ok := keys[k].([]any)
			if !ok {
				vals = []any{keys[k]}
			}
			for _, v := range vals {
				line := unitValue(v)
				if err := recipes.CheckLine(fmt.Sprintf("property content: %s.%s", s, k), line); err != nil {
					return nil, err
				}
				fmt.Fprintf(&b, "%s=%s\n", k, line)
			}
		}
	}
	return []byte(b.String()), nil
}

func unitValue(v any) string {
	if b, ok := v.(bool); ok {
		return map[bool]string{true: "yes", false: "no"}[b]
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
