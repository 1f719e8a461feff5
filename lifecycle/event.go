package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/internal/names"
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
