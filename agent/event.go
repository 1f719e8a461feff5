package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

// Message attributes of a sent event, so queue consumers and SNS
// subscription filter policies can route on them without parsing the body
// (docs/fleet.md). layers and instances are String.Array (a filter value
// matches any element); target is "all" when the event names neither.
const (
	eventAttrType      = "type"
	eventAttrStack     = "stack"
	eventAttrLayers    = "layers"
	eventAttrInstances = "instances"
	eventAttrTarget    = "target"
	stringArray        = "String.Array"
)

// eventFlags are the flags of event send.
type eventFlags struct {
	queue, topic string
	typ, id      string
	stack, app   string
	command      string
	rollbackTo   string
	agentVersion string
	packageURL   string
	layers       []string
	instances    []string
	recipes      []string
	attributes   string
	region       string
	endpoint     string
	wait         bool
	replyQueue   string
	timeout      time.Duration
	expect       int
	print        bool
	asJSON       bool
	resultsDir   string
	sequence     uint64
}

func newEventCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "event",
		Short: "Controller side: send lifecycle events to a stack's agents",
	}
	cmd.AddCommand(newEventSendCmd(), newEventStatusCmd())
	return cmd
}

func newEventSendCmd() *cobra.Command {
	f := &eventFlags{}
	cmd := &cobra.Command{
		Use:   "send (--queue URL | --topic ARN) --type TYPE [flags]",
		Short: "Send a v1 lifecycle event to an SQS queue or SNS topic, and optionally wait for the results",
		Long: `Build a v1 lifecycle event (docs/events.md), validate it as an agent would,
and send it to the agents' SQS queue (--queue) or SNS topic (--topic). The
event id is printed; --print prints the event JSON instead of sending it.

With --wait, long-poll the reply queue (--reply-queue) for the agents'
results of this event: one line per host as it answers, then a table of
the failures with the tail of their logs and a summary line (--json: one
JSON document, one object per host). Every result read from the reply
queue, of this event or another, is filed in --results-dir and deleted
from the queue; event status EVENT_ID shows them later.

Exit codes: 0 sent (with --wait: every targeted host answered success,
superseded or skipped), 1 invalid event, send failure, a failed or
refused result, or a host missing at the timeout. See docs/controller.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eventSend(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.queue, "queue", "", "SQS queue URL of the agents")
	fl.StringVar(&f.topic, "topic", "", "SNS topic ARN the agents' queues subscribe to")
	fl.StringVar(&f.typ, "type", "", "event type: setup|configure|deploy|undeploy|shutdown|execute_recipes|update_custom_cookbooks|upgrade_agent")
	fl.StringVar(&f.id, "id", "", "event id (default: a random UUID)")
	fl.StringVar(&f.stack, "stack", "", "only agents of this stack act")
	fl.StringSliceVar(&f.layers, "layer", nil, "only agents in one of these layers act (repeatable)")
	fl.StringSliceVar(&f.instances, "instance", nil, "only these instances act (repeatable)")
	fl.StringVar(&f.app, "app", "", "the app of a deploy or undeploy")
	fl.StringVar(&f.command, "command", "", "deploy command: deploy|rollback|undeploy|start|stop|restart")
	fl.StringVar(&f.rollbackTo, "rollback-to", "", "release a rollback goes to (YYYYMMDDHHMMSS; default the previous one)")
	fl.StringVar(&f.agentVersion, "agent-version", "", "upgrade_agent: the agent version to install")
	fl.StringVar(&f.packageURL, "package-url", "", "upgrade_agent: where the package is (http(s), s3://bucket/key or an absolute path)")
	fl.StringArrayVar(&f.recipes, "recipe", nil, "run-list item of an execute_recipes event (repeatable)")
	fl.StringVar(&f.attributes, "attributes", "", "JSON file with the stack configuration and deployment attributes")
	fl.Uint64Var(&f.sequence, "sequence", 0, "the controller's sequence number of this event, increasing with every change it sends (orders events before issued_at; docs/events.md)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION, the shared config, or the region in the queue URL or topic ARN)")
	fl.StringVar(&f.endpoint, "endpoint", "", "AWS endpoint URL for SQS and SNS (default: AWS_ENDPOINT_URL)")
	fl.BoolVar(&f.wait, "wait", false, "wait for the results on --reply-queue")
	fl.StringVar(&f.replyQueue, "reply-queue", "", "SQS queue URL the agents report results to (directly or through an SNS topic)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "with --wait, give up after this long")
	fl.IntVar(&f.expect, "expect", 0, "with --wait, how many hosts answer (default: the --instance values, else 1); hosts an event is not for do not answer")
	fl.BoolVar(&f.print, "print", false, "print the event JSON and send nothing")
	fl.BoolVar(&f.asJSON, "json", false, "with --wait, print the results as JSON (one object per host)")
	fl.StringVar(&f.resultsDir, "results-dir", "", "with --wait, where results read from the reply queue are filed (default ~/.cache/stackagent/results)")
	return cmd
}

// usageErr is a bad invocation: exit 1 with the message.
func usageErr(format string, args ...any) error {
	return &exitError{code: 1, err: fmt.Errorf(format, args...)}
}

func eventSend(ctx context.Context, f *eventFlags, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e, body, err := buildEvent(f, time.Now())
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if f.print {
		if f.wait {
			return usageErr("--print sends nothing, so there is nothing to --wait for")
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			return &exitError{code: 1, err: err}
		}
		pretty.WriteByte('\n')
		_, err := stdout.Write(pretty.Bytes())
		return err
	}
	target, err := sendTarget(f)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	expect, err := checkWaitFlags(f)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	cfg, err := awsConfig(ctx, f.region, f.endpoint, target.Region)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	var book *resultBook
	if f.wait { // before sending: a book that cannot be written is found now
		if book, err = openBook(f.resultsDir); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	if err := publishEvent(ctx, cfg, target, e, body); err != nil {
		return &exitError{code: 1, err: err}
	}
	if !f.wait {
		fmt.Fprintln(stdout, e.ID)
		return nil
	}
	return waitForEvent(ctx, cfg, book, f, e.ID, expect, stdout, stderr)
}

// buildEvent makes the v1 event of the flags and validates it with
// lifecycle.Parse, as an agent will. It returns the event as parsed and
// the JSON body to send.
func buildEvent(f *eventFlags, now time.Time) (*lifecycle.Event, []byte, error) {
	id := f.id
	if id == "" {
		id = newEventID()
	}
	e := &lifecycle.Event{
		Version: 1, ID: id, Type: f.typ, Stack: f.stack,
		Layers: f.layers, Instances: f.instances,
		App: f.app, Command: f.command, Recipes: f.recipes,
		RollbackTo: f.rollbackTo, AgentVersion: f.agentVersion, PackageURL: f.packageURL,
		IssuedAt: now.UTC().Truncate(time.Millisecond), Sequence: f.sequence,
	}
	if f.attributes != "" {
		b, err := os.ReadFile(f.attributes)
		if err != nil {
			return nil, nil, fmt.Errorf("read attributes: %w", err)
		}
		attrs, err := recipes.ParseJSONObject(f.attributes, b)
		if err != nil {
			return nil, nil, fmt.Errorf("attributes %w", err)
		}
		e.Attributes = attrs
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, nil, fmt.Errorf("encode event %s: %w", id, err)
	}
	parsed, err := lifecycle.Parse(body, now)
	if err != nil {
		return nil, nil, err
	}
	parsed.Envelope = ""
	return parsed, body, nil
}

// newEventID returns a random version 4 UUID.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sendTarget checks that exactly one of --queue and --topic is given and
// that it is a queue URL or a topic ARN.
func sendTarget(f *eventFlags) (lifecycle.ReplyTarget, error) {
	switch {
	case f.queue == "" && f.topic == "":
		return lifecycle.ReplyTarget{}, errors.New("no destination: give --queue URL or --topic ARN (or --print)")
	case f.queue != "" && f.topic != "":
		return lifecycle.ReplyTarget{}, errors.New("give either --queue or --topic, not both")
	case f.queue != "":
		t, err := lifecycle.ParseReplyTarget(f.queue)
		if err != nil || t.Kind != lifecycle.ReplySQS {
			return lifecycle.ReplyTarget{}, fmt.Errorf("--queue %q: want an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", f.queue)
		}
		return t, nil
	}
	t, err := lifecycle.ParseReplyTarget(f.topic)
	if err != nil || t.Kind != lifecycle.ReplySNS {
		return lifecycle.ReplyTarget{}, fmt.Errorf("--topic %q: want an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", f.topic)
	}
	return t, nil
}

// checkWaitFlags validates the --wait flags and returns how many results
// to wait for.
func checkWaitFlags(f *eventFlags) (int, error) {
	if !f.wait {
		switch {
		case f.replyQueue != "":
			return 0, errors.New("--reply-queue is only used with --wait")
		case f.asJSON:
			return 0, errors.New("--json prints the results of --wait: give --wait --reply-queue URL")
		}
		return 0, nil
	}
	if f.replyQueue == "" {
		return 0, errors.New("--wait needs --reply-queue URL (the queue the agents report results to)")
	}
	if t, err := lifecycle.ParseReplyTarget(f.replyQueue); err != nil || t.Kind != lifecycle.ReplySQS {
		return 0, fmt.Errorf("--reply-queue %q: want an SQS queue URL (subscribe a queue to a reply topic to wait on it)", f.replyQueue)
	}
	if f.timeout <= 0 {
		return 0, fmt.Errorf("--timeout %s: want a positive duration", f.timeout)
	}
	switch {
	case f.expect < 0:
		return 0, fmt.Errorf("--expect %d: want at least 1", f.expect)
	case f.expect > 0 && len(f.instances) > 0 && f.expect != len(f.instances):
		return 0, fmt.Errorf("--expect %d with %d --instance values: the instances are the hosts waited for; leave --expect out", f.expect, len(f.instances))
	case f.expect > 0:
		return f.expect, nil
	case len(f.instances) > 0:
		return len(f.instances), nil
	}
	return 1, nil
}

// awsConfig loads the AWS config; without a region from the flag or the
// environment it falls back to the one the queue URL or topic ARN names.
func awsConfig(ctx context.Context, region, endpoint, targetRegion string) (aws.Config, error) {
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: region, Endpoint: endpoint})
	if errors.Is(err, awsconfig.ErrNoRegion) && region == "" && targetRegion != "" {
		return awsconfig.Load(ctx, awsconfig.Options{Region: targetRegion, Endpoint: endpoint})
	}
	if errors.Is(err, awsconfig.ErrNoRegion) {
		return cfg, errors.New("no AWS region: give --region (or set AWS_REGION)")
	}
	return cfg, err
}

// publishEvent sends body to the queue (SendMessage) or topic (Publish),
// with the type and stack as message attributes. To a FIFO queue or topic
// the message group is the stack and the deduplication id the event id.
func publishEvent(ctx context.Context, cfg aws.Config, t lifecycle.ReplyTarget, e *lifecycle.Event, body []byte) error {
	attrs := eventAttributes(e)
	var group, dedup *string
	if strings.HasSuffix(t.Target, ".fifo") {
		group, dedup = aws.String(orDefault(e.Stack, "stackagent")), aws.String(e.ID)
	}
	if t.Kind == lifecycle.ReplySNS {
		in := &sns.PublishInput{
			TopicArn: aws.String(t.Target), Message: aws.String(string(body)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{},
			MessageGroupId:    group, MessageDeduplicationId: dedup,
		}
		for k, v := range attrs {
			in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String(v[0]), StringValue: aws.String(v[1])}
		}
		if _, err := sns.NewFromConfig(cfg).Publish(ctx, in); err != nil {
			return fmt.Errorf("publish event %s to %s: %w", e.ID, t.Target, err)
		}
		return nil
	}
	in := &sqs.SendMessageInput{
		QueueUrl: aws.String(t.Target), MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{},
		MessageGroupId:    group, MessageDeduplicationId: dedup,
	}
	for k, v := range attrs {
		in.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String(v[0]), StringValue: aws.String(v[1])}
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send event %s to %s: %w", e.ID, t.Target, err)
	}
	return nil
}

// eventAttributes are the message attributes of e: name → {data type,
// value}.
func eventAttributes(e *lifecycle.Event) map[string][2]string {
	attrs := map[string][2]string{eventAttrType: {"String", e.Type}}
	if e.Stack != "" {
		attrs[eventAttrStack] = [2]string{"String", e.Stack}
	}
	if len(e.Layers) > 0 {
		b, _ := json.Marshal(e.Layers)
		attrs[eventAttrLayers] = [2]string{stringArray, string(b)}
	}
	if len(e.Instances) > 0 {
		b, _ := json.Marshal(e.Instances)
		attrs[eventAttrInstances] = [2]string{stringArray, string(b)}
	}
	if len(e.Layers) == 0 && len(e.Instances) == 0 {
		attrs[eventAttrTarget] = [2]string{"String", "all"}
	}
	return attrs
}
