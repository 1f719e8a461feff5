package lifecycle

import (
	"bytes"
	"errors"
	"strings"
	"time"
)

// Auto Scaling lifecycle transitions and the test notification's Event.
const (
	TransitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	TransitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
	asgTestNotification   = "autoscaling:TEST_NOTIFICATION"
)

// EventBridge detail-types understood.
const (
	DetailTypeLaunch    = "EC2 Instance-launch Lifecycle Action"
	DetailTypeTerminate = "EC2 Instance-terminate Lifecycle Action"
	DetailTypeEvent     = "stackagent event"
)

// maxEnvelopes bounds nesting (sns+eventbridge+asg is three).
const maxEnvelopes = 4

// parser unwraps envelopes down to the event.
type parser struct {
	now  time.Time
	envs []string // envelopes unwrapped so far, outermost first
	// issued is the time of the innermost envelope that had one: the
	// fallback for a missing issued_at.
	issued time.Time
}

func (p *parser) envelope() string { return strings.Join(p.envs, "+") }

func (p *parser) fallback() time.Time {
	if p.issued.IsZero() {
		return p.now
	}
	return p.issued
}

func (p *parser) malformed(field, reason string) error {
	return &ParseError{Err: ErrMalformed, Envelope: p.envelope(), Field: field, Reason: reason}
}

func (p *parser) refused(field, reason string) error {
	return &ParseError{Err: ErrRefused, Envelope: p.envelope(), Field: field, Reason: reason}
}

// parse recognises the shape of m and unwraps it.
func (p *parser) parse(m map[string]any) (*Event, error) {
	if len(p.envs) >= maxEnvelopes {
		return nil, p.malformed("", "envelopes nested too deep")
	}
	switch {
	case isSNS(m):
		return p.sns(m)
	case has(m, "detail-type") && has(m, "detail"):
		return p.eventBridge(m)
	case m["Event"] == asgTestNotification:
		p.envs = append(p.envs, "asg")
		group, _ := m["AutoScalingGroupName"].(string)
		return nil, &ParseError{Err: ErrTestNotification, Envelope: p.envelope(),
			Reason: "sent for group " + group + " when its lifecycle hook was set"}
	case has(m, "LifecycleTransition"):
		p.envs = append(p.envs, "asg")
		return p.hook(m)
	case has(m, "version") || has(m, "type"):
		env := "event"
		if len(p.envs) > 0 {
			env = p.envelope()
		}
		return eventFromV1(m, env, p.fallback())
	}
	return nil, p.malformed("", "no recognised shape (want a v1 event, an SNS notification, "+
		"an Auto Scaling lifecycle-hook message or an EventBridge event)")
}

func has(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// isSNS recognises SNS's JSON notification (SQS subscription without raw
// message delivery, or an HTTP endpoint's body).
func isSNS(m map[string]any) bool {
	typ, _ := m["Type"].(string)
	_, hasTopic := m["TopicArn"].(string)
	return typ != "" && hasTopic && has(m, "MessageId")
}

func (p *parser) sns(m map[string]any) (*Event, error) {
	p.envs = append(p.envs, "sns")
	if typ := m["Type"].(string); typ != "Notification" {
		return nil, p.refused("Type", "SNS "+typ+" message is not a notification "+
			"(confirm subscriptions with SubscribeURL; nothing runs)")
	}
	msg, ok := m["Message"].(string)
	if !ok {
		return nil, p.malformed("Message", "want a string holding the JSON payload, got "+jsonKind(m["Message"]))
	}
	p.stamp(m, "Timestamp")
	inner, err := p.decode("Message", "SNS Message", []byte(msg))
	if err != nil {
		return nil, err
	}
	return p.parse(inner)
}

// stamp records an envelope's time, if it has a valid one.
func (p *parser) stamp(m map[string]any, field string) {
	if s, ok := m[field].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			p.issued = t.UTC()
		}
	}
}

func (p *parser) eventBridge(m map[string]any) (*Event, error) {
	p.envs = append(p.envs, "eventbridge")
	p.stamp(m, "time")
	dt, _ := m["detail-type"].(string)
	detail, ok := m["detail"].(map[string]any)
	if !ok {
		return nil, p.malformed("detail", "want an object, got "+jsonKind(m["detail"]))
	}
	switch dt {
	case DetailTypeLaunch, DetailTypeTerminate:
		p.envs = append(p.envs, "asg")
		e, err := p.hook(detail)
		if err == nil && !transitionMatches(dt, e.Hook.Transition) {
			return nil, &ParseError{Err: ErrRefused, Envelope: e.Envelope, ID: e.ID, Field: "detail.LifecycleTransition",
				Reason: e.Hook.Transition + " does not match detail-type " + dt}
		}
		return e, err
	case DetailTypeEvent:
		return eventFromV1(detail, p.envelope(), p.fallback())
	}
	return nil, p.refused("detail-type", "unknown detail-type "+show(m["detail-type"])+
		" (want \""+DetailTypeLaunch+"\", \""+DetailTypeTerminate+"\" or \""+DetailTypeEvent+"\")")
}

func transitionMatches(detailType, transition string) bool {
	return (detailType == DetailTypeLaunch) == (transition == TransitionLaunching)
}

// hook turns an Auto Scaling lifecycle-hook message into a setup
// (launching) or shutdown (terminating) event for the instance.
func (p *parser) hook(m map[string]any) (*Event, error) {
	d := &decoder{m: m, env: p.envelope()}
	h := &LifecycleHook{
		Transition:           d.str("LifecycleTransition", true),
		HookName:             d.str("LifecycleHookName", true),
		AutoScalingGroupName: d.str("AutoScalingGroupName", true),
		Token:                d.str("LifecycleActionToken", true),
		InstanceID:           d.str("EC2InstanceId", true),
	}
	meta := d.str("NotificationMetadata", false)
	d.checkInstance("EC2InstanceId", h.InstanceID)
	if d.err != nil {
		return nil, d.err
	}
	e := &Event{Version: 1, ID: "asg-" + h.Token, Hook: h, Envelope: p.envelope(),
		Instances: []string{h.InstanceID}}
	switch h.Transition {
	case TransitionLaunching:
		e.Type = TypeSetup
	case TransitionTerminating:
		e.Type = TypeShutdown
	default:
		return nil, &ParseError{Err: ErrRefused, Envelope: e.Envelope, ID: e.ID, Field: "LifecycleTransition",
			Reason: "unknown transition " + show(h.Transition) + " (want " + TransitionLaunching + " or " + TransitionTerminating + ")"}
	}
	p.stamp(m, "Time")
	e.IssuedAt = p.fallback()
	if err := p.metadata(e, meta); err != nil {
		return nil, err
	}
	return e, nil
}

// metadata reads the hook's NotificationMetadata: when it is a JSON object
// it may carry "stack", "layers" and "attributes"; other text is ignored.
func (p *parser) metadata(e *Event, meta string) error {
	trimmed := bytes.TrimSpace([]byte(meta))
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	m, err := p.decode("NotificationMetadata", "NotificationMetadata", trimmed)
	var pe *ParseError
	if errors.As(err, &pe) && errors.Is(err, ErrRefused) {
		pe.ID = e.ID
		return err
	}
	if err != nil {
		return &ParseError{Err: ErrRefused, Envelope: e.Envelope, ID: e.ID, Field: "NotificationMetadata",
			Reason: "looks like JSON but does not parse: " + err.Error()}
	}
	d := &decoder{m: m, env: e.Envelope, id: e.ID}
	e.Stack = d.label("stack")
	e.Layers = d.names("layers", "layer name")
	e.Attributes = d.attributes("attributes")
	if d.err != nil {
		d.err.Field = "NotificationMetadata." + d.err.Field
		return d.err
	}
	return nil
}
