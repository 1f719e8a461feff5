package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/internal/runlist"
)

// The event decoder: typed fields of a v1 event, each fault with its
// field path.

// decoder reads typed fields out of a decoded JSON object, keeping the
// first fault.
type decoder struct {
	m   map[string]any
	env string
	id  string
	err *ParseError
}

func (d *decoder) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = &ParseError{Err: ErrRefused, Envelope: d.env, ID: d.id,
			Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

// get returns a field, treating JSON null as absent.
func (d *decoder) get(field string) (any, bool) {
	v, ok := d.m[field]
	return v, ok && v != nil
}

func (d *decoder) version() int {
	v, ok := d.get("version")
	if !ok {
		d.fail("version", "missing (want 1)")
		return 0
	}
	if n, isInt := v.(int64); isInt && n == 1 {
		return 1
	}
	d.fail("version", "unknown version %s (want 1)", show(v))
	return 0
}

// sequence reads the optional controller sequence: a whole number, 1 or
// more (0 or absent: none).
func (d *decoder) sequence() uint64 {
	v, ok := d.get("sequence")
	if !ok {
		return 0
	}
	n, isInt := v.(int64)
	if !isInt || n < 0 {
		d.fail("sequence", "want a whole number of 0 or more, got %s", show(v))
		return 0
	}
	return uint64(n)
}

func (d *decoder) str(field string, required bool) string {
	v, ok := d.get(field)
	if !ok {
		if required {
			d.fail(field, "missing")
		}
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		d.fail(field, "want a string, got %s", jsonKind(v))
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		d.fail(field, "missing (empty string)")
	}
	return s
}

func (d *decoder) oneOf(field string, allowed []string, def string) string {
	s := d.str(field, def == "")
	if s == "" {
		return def
	}
	if !slices.Contains(allowed, s) {
		d.fail(field, "unknown %s %q (want %s)", field, s, strings.Join(allowed, "|"))
	}
	return s
}

func (d *decoder) strs(field string) []string {
	v, ok := d.get(field)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		d.fail(field, "want a list of strings, got %s", jsonKind(v))
		return nil
	}
	out := make([]string, 0, len(l))
	for i, x := range l {
		s, isStr := x.(string)
		if !isStr || s == "" {
			d.fail(fmt.Sprintf("%s[%d]", field, i), "want a non-empty string, got %s", show(x))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// command: deploy events take any app command (default deploy); undeploy
// events only undeploy (the default); other types none.
func (d *decoder) command(typ string) string {
	switch typ {
	case TypeDeploy:
		return d.oneOf("command", appCommands, CommandDeploy)
	case TypeUndeploy:
		c := d.oneOf("command", appCommands, CommandUndeploy)
		if c != CommandUndeploy {
			d.fail("command", "%q contradicts type undeploy (send a deploy event with command %q)", c, c)
		}
		return CommandUndeploy
	}
	if _, ok := d.get("command"); ok {
		d.fail("command", "only deploy and undeploy events take a command, not %s", typeOrUnknown(typ))
	}
	return ""
}

func (d *decoder) recipes(typ string) []string {
	_, given := d.get("recipes")
	if typ != TypeExecuteRecipes {
		if given {
			d.fail("recipes", "only execute_recipes events take recipes, not %s", typeOrUnknown(typ))
		}
		return nil
	}
	if !given {
		d.fail("recipes", "missing (execute_recipes needs a run list)")
		return nil
	}
	l := d.strs("recipes")
	if d.err != nil {
		return nil
	}
	if len(l) == 0 {
		d.fail("recipes", "empty (execute_recipes needs a run list)")
	}
	for i, r := range l {
		if _, err := runlist.Parse(r); err != nil {
			d.fail(fmt.Sprintf("recipes[%d]", i), "%v", err)
		}
	}
	return l
}

// name reads an optional string field that must be a name (it becomes a
// path element).
func (d *decoder) name(field, kind string) string {
	s := d.str(field, false)
	if s != "" {
		d.checkName(field, kind, s)
	}
	return s
}

// label reads a free-form label (a stack name: OpsWorks allowed "My
// Stack"): 1-128 bytes of printable UTF-8, no control characters. It is
// compared and shown, never made a path.
func (d *decoder) label(field string) string {
	s := d.str(field, false)
	if s == "" {
		return s
	}
	ok := len(s) <= 128 && utf8.ValidString(s)
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			ok = false
		}
	}
	if !ok {
		v := s
		if len(v) > 80 {
			v = v[:80] + "…"
		}
		d.fail(field, "invalid stack name %q: want 1-128 printable characters", v)
	}
	return s
}

// names reads a list of names.
func (d *decoder) names(field, kind string) []string {
	l := d.strs(field)
	for i, s := range l {
		d.checkName(fmt.Sprintf("%s[%d]", field, i), kind, s)
	}
	return l
}

func (d *decoder) checkName(field, kind, s string) {
	if err := names.Check(field, kind, s); err != nil {
		d.fail(field, "%s", strings.TrimPrefix(err.Error(), field+": "))
	}
}

// attributes reads the stack configuration object and checks the app
// names keying its deploy object.
func (d *decoder) attributes(field string) map[string]any {
	o := d.object(field)
	if o != nil && d.err == nil {
		if f, err := checkDeployNames(field, o); err != nil {
			d.fail(f, "%s", strings.TrimPrefix(err.Error(), f+": "))
		}
	}
	return o
}

func (d *decoder) object(field string) map[string]any {
	v, ok := d.get(field)
	if !ok {
		return nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		d.fail(field, "want a JSON object, got %s", jsonKind(v))
	}
	return o
}

func (d *decoder) time(field string, def time.Time) time.Time {
	s := d.str(field, false)
	if s == "" {
		return def
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(field, "%q is not an RFC 3339 time (want e.g. 2026-11-25T10:11:12Z)", s)
		return def
	}
	return t.UTC()
}

func typeOrUnknown(typ string) string {
	if typ == "" {
		return "this event"
	}
	return typ
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// show prints a decoded scalar for an error, or its JSON kind.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case int64, float64, bool:
		return fmt.Sprint(x)
	}
	return jsonKind(v)
}
