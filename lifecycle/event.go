package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/internal/runlist"
)

// App commands of a deploy event (OpsWorks' deploy command arguments).
const (
	CommandDeploy   = "deploy"
	CommandRollback = "rollback"
	CommandUndeploy = "undeploy"
	CommandStart    = "start"
	CommandStop     = "stop"
	CommandRestart  = "restart"
)

var (
	eventTypes = []string{TypeSetup, TypeConfigure, TypeDeploy, TypeUndeploy,
		TypeShutdown, TypeExecuteRecipes, TypeUpdateCustomCookbooks, TypeUpgradeAgent}
	appCommands = []string{CommandDeploy, CommandRollback, CommandUndeploy,
		CommandStart, CommandStop, CommandRestart}
)

// ParseError says why a message body is not an event this agent runs.
// Err is ErrMalformed, ErrRefused or ErrTestNotification, so callers test
// it with errors.Is; errors.As gives the field to report.
type ParseError struct {
	Err      error
	Envelope string // envelopes unwrapped so far ("sns+asg"); "" if none
	ID       string // the event id, when it was read before the fault
	Field    string // the offending field as a path ("layers[1]"); "" if none
	Reason   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Err == nil {
		b.WriteString("event error")
	} else {
		b.WriteString(e.Err.Error())
	}
	if e.Envelope != "" {
		fmt.Fprintf(&b, " (%s)", e.Envelope)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " %s", ShortID(e.ID))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads one message body: a v1 event, or an SNS notification, an
// Auto Scaling lifecycle-hook message or an EventBridge event carrying one
// (see docs/events.md). now stands in for a missing issued_at when no
// envelope carries a time. Errors are *ParseError wrapping ErrMalformed
// (not JSON, no shape recognised), ErrRefused (recognised but invalid) or
// ErrTestNotification.
//
// Limits come first: a body over MaxMessageBytes, nested deeper than
// MaxJSONDepth or holding a number out of range is refused (ErrRefused)
// before anything else reads it.
func Parse(body []byte, now time.Time) (*Event, error) {
	if err := checkSize(body); err != nil {
		return nil, err
	}
	p := &parser{now: now.UTC()}
	m, err := p.decode("", "message body", body)
	if err != nil {
		return nil, err
	}
	return p.parse(m)
}

// decode parses one JSON document of the message (the body, an SNS
// Message) within the limits; field says where it sits.
func (p *parser) decode(field, name string, b []byte) (map[string]any, error) {
	if err := checkDepth(field, b); err != nil {
		err.(*ParseError).Envelope = p.envelope()
		return nil, err
	}
	m, err := jsontree.ParseObject(name, b)
	if err != nil {
		return nil, p.malformed(field, err.Error())
	}
	if err := checkNumbers(field, m); err != nil {
		pe := err.(*ParseError)
		pe.Envelope = p.envelope()
		pe.ID, _ = m["id"].(string)
		return nil, err
	}
	return m, nil
}

// eventFromV1 validates a v1 event object. issued is the time a missing
// issued_at takes.
func eventFromV1(m map[string]any, env string, issued time.Time) (*Event, error) {
	d := &decoder{m: m, env: env}
	e := &Event{Envelope: env}
	e.Version = d.version()
	e.ID = d.str("id", true)
	d.id = e.ID
	e.Type = d.oneOf("type", eventTypes, "")
	e.Stack = d.label("stack")
	e.Layers = d.names("layers", "layer name")
	e.Instances = d.instances("instances")
	e.App = d.name("app", "app name")
	e.Command = d.command(e.Type)
	e.RollbackTo = d.str("rollback_to", false)
	if e.RollbackTo != "" && d.err == nil {
		if err := names.CheckRelease("rollback_to", e.RollbackTo); err != nil {
			d.fail("rollback_to", "%s", strings.TrimPrefix(err.Error(), "rollback_to: "))
		}
	}
	if e.RollbackTo != "" && e.Command != CommandRollback && d.err == nil {
		d.fail("rollback_to", "only a deploy event with command rollback takes rollback_to")
	}
	e.Recipes = d.recipes(e.Type)
	e.AgentVersion = d.str("agent_version", false)
	e.PackageURL = d.str("package_url", false)
	if d.err == nil {
		switch {
		case e.Type == TypeUpgradeAgent && e.AgentVersion == "":
			d.fail("agent_version", "missing (upgrade_agent needs the version to install)")
		case e.Type != TypeUpgradeAgent && (e.AgentVersion != "" || e.PackageURL != ""):
			d.fail("agent_version", "only upgrade_agent events take agent_version and package_url")
		case e.Type == TypeUpgradeAgent && strings.ContainsAny(e.AgentVersion, " \t\n/;&|$`'\""):
			d.fail("agent_version", "%q is not a package version", e.AgentVersion)
		}
	}
	e.Attributes = d.attributes("attributes")
	e.IssuedAt = d.time("issued_at", issued)
	e.Sequence = d.sequence()
	if d.err != nil {
		return nil, d.err
	}
	return e, nil
}

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
