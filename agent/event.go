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
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes"
)

// Message attributes of a sent event, so queue consumers and SNS
// subscription filter policies can route on them without parsing the body.
const (
	eventAttrType  = "type"
	eventAttrStack = "stack"
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
}

func newEventCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "event",
		Short: "Controller side: send lifecycle events to a stack's agents",
	}
	cmd.AddCommand(newEventSendCmd())
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
results of this event: one line per instance, the output tail of a failed
run. Results of other events are left on the queue.

Exit codes: 0 sent (with --wait: every expected result is success or
skipped), 1 invalid event, send failure, a failed or refused result, or
timeout. See docs/controller.md.`,
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
	fl.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION, the shared config, or the region in the queue URL or topic ARN)")
	fl.StringVar(&f.endpoint, "endpoint", "", "AWS endpoint URL for SQS and SNS (default: AWS_ENDPOINT_URL)")
	fl.BoolVar(&f.wait, "wait", false, "wait for the results on --reply-queue")
	fl.StringVar(&f.replyQueue, "reply-queue", "", "SQS queue URL the agents report results to (directly or through an SNS topic)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Minute, "with --wait, give up after this long")
	fl.IntVar(&f.expect, "expect", 0, "with --wait, results to wait for (default: the number of --instance values, else 1)")
	fl.BoolVar(&f.print, "print", false, "print the event JSON and send nothing")
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
	if err := publishEvent(ctx, cfg, target, e, body); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintln(stdout, e.ID)
	if !f.wait {
		return nil
	}
	w := &resultWaiter{
		client: sqs.NewFromConfig(cfg), queueURL: f.replyQueue, eventID: e.ID,
		expect: expect, instances: f.instances, out: stdout, log: stderr,
	}
	fmt.Fprintf(stderr, "waiting up to %s for %d result(s) of %s on %s\n", f.timeout, expect, e.ID, f.replyQueue)
	return w.wait(ctx, f.timeout)
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
		IssuedAt: now.UTC().Truncate(time.Millisecond),
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
		if f.replyQueue != "" {
			return 0, errors.New("--reply-queue is only used with --wait")
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
	cfg, err := lifecycle.LoadAWSConfig(ctx, region, endpoint)
	if errors.Is(err, lifecycle.ErrNoRegion) && region == "" && targetRegion != "" {
		return lifecycle.LoadAWSConfig(ctx, targetRegion, endpoint)
	}
	if errors.Is(err, lifecycle.ErrNoRegion) {
		return cfg, errors.New("no AWS region: give --region (or set AWS_REGION)")
	}
	return cfg, err
}

// publishEvent sends body to the queue (SendMessage) or topic (Publish),
// with the type and stack as message attributes. To a FIFO queue or topic
// the message group is the stack and the deduplication id the event id.
func publishEvent(ctx context.Context, cfg aws.Config, t lifecycle.ReplyTarget, e *lifecycle.Event, body []byte) error {
	attrs := map[string]string{eventAttrType: e.Type}
	if e.Stack != "" {
		attrs[eventAttrStack] = e.Stack
	}
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
			in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
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
		in.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send event %s to %s: %w", e.ID, t.Target, err)
	}
	return nil
}

// Waiting for results.
const (
	// resultVisibility hides a received reply while it is looked at; a
	// reply of another event is made visible again at once.
	resultVisibility   = 30 * time.Second
	maxReceiveFailures = 5
	// A poll that returned only other events' replies would return again
	// at once (they are visible again): pause between such polls.
	idlePauseBase = 500 * time.Millisecond
	idlePauseMax  = 5 * time.Second
)

// resultWaiter collects the results of one event from a reply queue.
type resultWaiter struct {
	client    lifecycle.SQSAPI
	queueURL  string
	eventID   string
	expect    int
	instances []string // when set, only these instances' results count
	out, log  io.Writer

	seen   map[string]bool // instances whose result arrived
	failed int             // of them, failed or refused
}

// wait polls until expect results arrived or timeout passed. It returns
// nil when every result is success, skipped or superseded.
func (w *resultWaiter) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	w.seen = map[string]bool{}
	idle := &lifecycle.Backoff{Base: idlePauseBase, Max: idlePauseMax}
	failures := 0
	for len(w.seen) < w.expect {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return w.timedOut(timeout)
		}
		ours, others, err := w.poll(ctx, remaining)
		switch {
		case err != nil && ctx.Err() != nil:
			return &exitError{code: 1, err: fmt.Errorf("wait for results of %s: %w", w.eventID, ctx.Err())}
		case err != nil:
			failures++
			if failures >= maxReceiveFailures {
				return &exitError{code: 1, err: fmt.Errorf("wait for results of %s: %w", w.eventID, err)}
			}
			fmt.Fprintf(w.log, "warning: %v (retrying)\n", err)
			sleepCtx(ctx, min(idle.Next(), time.Until(deadline)))
		case ours == 0 && others > 0:
			failures = 0
			sleepCtx(ctx, min(idle.Next(), time.Until(deadline)))
		default:
			failures = 0
			idle.Reset()
		}
	}
	if w.failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("event %s: %d of %d results failed or refused", w.eventID, w.failed, len(w.seen))}
	}
	fmt.Fprintf(w.log, "event %s: %d of %d results ok\n", w.eventID, len(w.seen), w.expect)
	return nil
}

func (w *resultWaiter) timedOut(timeout time.Duration) error {
	msg := fmt.Sprintf("event %s: timed out after %s: %d of %d results arrived", w.eventID, timeout, len(w.seen), w.expect)
	if w.failed > 0 {
		msg += fmt.Sprintf(", %d failed or refused", w.failed)
	}
	return &exitError{code: 1, err: errors.New(msg)}
}

// poll long-polls the reply queue once (at most remaining, at least 1 s),
// deletes and records this event's results and makes the others visible
// again. It returns how many of each it saw.
func (w *resultWaiter) poll(ctx context.Context, remaining time.Duration) (ours, others int, err error) {
	wait := max(min(remaining, lifecycle.DefaultSQSWait).Truncate(time.Second), time.Second)
	src, err := lifecycle.NewSQSSource(w.client, w.queueURL, lifecycle.SQSOptions{Wait: wait, Visibility: resultVisibility})
	if err != nil {
		return 0, 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, wait+15*time.Second)
	defer cancel()
	msgs, err := src.Receive(pctx)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		r := parseResult(m.Body)
		if r == nil || r.EventID != w.eventID {
			others++
			if err := src.Release(ctx, m); err != nil {
				fmt.Fprintf(w.log, "warning: %v\n", err)
			}
			continue
		}
		ours++
		if err := src.Delete(ctx, m); err != nil {
			fmt.Fprintf(w.log, "warning: %v\n", err)
		}
		w.record(r)
	}
	return ours, others, nil
}

// record prints r and counts it, once per instance (delivery is at least
// once, so a result may arrive twice).
func (w *resultWaiter) record(r *lifecycle.Result) {
	if len(w.instances) > 0 && !slices.Contains(w.instances, r.InstanceID) {
		fmt.Fprintf(w.out, "%s (not an --instance, not counted)\n", formatResult(r))
		return
	}
	if w.seen[r.InstanceID] {
		return
	}
	w.seen[r.InstanceID] = true
	fmt.Fprintln(w.out, formatResult(r))
	switch r.Status {
	case lifecycle.StatusSuccess, lifecycle.StatusSkipped, lifecycle.StatusSuperseded:
		return
	}
	w.failed++
	if out := strings.TrimRight(r.Output, "\n"); out != "" {
		for line := range strings.SplitSeq(out, "\n") {
			fmt.Fprintf(w.out, "    | %s\n", line)
		}
	}
}

// formatResult is one result's line: instance, status, exit code,
// resources updated/total, duration, and the reason when there is one.
func formatResult(r *lifecycle.Result) string {
	d := r.End.Sub(r.Start)
	if r.Start.IsZero() || r.End.IsZero() || d < 0 {
		d = 0
	}
	s := fmt.Sprintf("%s  %s  exit %d  %d/%d resources updated  %s",
		orDefault(r.InstanceID, "(no instance id)"), r.Status, r.ExitCode, r.Updated, r.Total, d.Round(100*time.Millisecond))
	if r.Reason != "" {
		s += "  " + r.Reason
	}
	return s
}

// parseResult reads a reply: a lifecycle.Result as JSON, raw or inside an
// SNS notification (a queue subscribed to a topic without raw delivery).
// It returns nil for anything else.
func parseResult(body []byte) *lifecycle.Result {
	var n struct {
		Type    string
		Message *string
	}
	if json.Unmarshal(body, &n) == nil && n.Type == "Notification" && n.Message != nil {
		body = []byte(*n.Message)
	}
	var r lifecycle.Result
	if json.Unmarshal(body, &r) != nil || r.EventID == "" {
		return nil
	}
	return &r
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
