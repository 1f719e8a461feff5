package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/lazyre"
)

// Message attributes set on every reported result, so a controller can
// filter (SNS subscription filter policies) without parsing the body.
const (
	AttrEventID    = "event_id"
	AttrStatus     = "status"
	AttrInstanceID = "instance_id"
)

// SQSSendAPI is the part of *sqs.Client that SQSReporter uses.
type SQSSendAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SNSPublishAPI is the part of *sns.Client that SNSReporter uses.
type SNSPublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var (
	_ SQSSendAPI    = (*sqs.Client)(nil)
	_ SNSPublishAPI = (*sns.Client)(nil)
	_ Reporter      = (*SQSReporter)(nil)
	_ Reporter      = (*SNSReporter)(nil)
)

// SQSReporter sends each result as JSON to a reply queue.
type SQSReporter struct {
	client   SQSSendAPI
	queueURL string
}

// NewSQSReporter reports to the queue at queueURL.
func NewSQSReporter(client SQSSendAPI, queueURL string) *SQSReporter {
	return &SQSReporter{client: client, queueURL: queueURL}
}

// Report sends r. To a FIFO queue (.fifo) the message group is the
// instance, so one instance's results stay in order, and the deduplication
// id is derived from event, instance and status.
func (p *SQSReporter) Report(ctx context.Context, r *Result) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("report %s to %s: %w", r.EventID, p.queueURL, err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(p.queueURL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{},
	}
	for k, v := range resultAttrs(r) {
		in.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if strings.HasSuffix(p.queueURL, ".fifo") {
		in.MessageGroupId, in.MessageDeduplicationId = fifoIDs(r)
	}
	if _, err := p.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("report %s to %s: %w", r.EventID, p.queueURL, err)
	}
	return nil
}

// SNSReporter publishes each result as JSON to a topic.
type SNSReporter struct {
	client   SNSPublishAPI
	topicARN string
}

// NewSNSReporter reports to the topic topicARN.
func NewSNSReporter(client SNSPublishAPI, topicARN string) *SNSReporter {
	return &SNSReporter{client: client, topicARN: topicARN}
}

// Report publishes r, with the same attributes as SQSReporter (and the same
// FIFO group and deduplication ids for a .fifo topic).
func (p *SNSReporter) Report(ctx context.Context, r *Result) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("report %s to %s: %w", r.EventID, p.topicARN, err)
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(p.topicARN),
		Message:           aws.String(string(body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{},
	}
	for k, v := range resultAttrs(r) {
		in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if strings.HasSuffix(p.topicARN, ".fifo") {
		in.MessageGroupId, in.MessageDeduplicationId = fifoIDs(r)
	}
	if _, err := p.client.Publish(ctx, in); err != nil {
		return fmt.Errorf("report %s to %s: %w", r.EventID, p.topicARN, err)
	}
	return nil
}

// resultAttrs are the message attributes of r; empty values are left out
// (SQS and SNS refuse empty attribute values).
func resultAttrs(r *Result) map[string]string {
	attrs := map[string]string{}
	for k, v := range map[string]string{AttrEventID: r.EventID, AttrStatus: string(r.Status), AttrInstanceID: r.InstanceID} {
		if v != "" {
			attrs[k] = v
		}
	}
	return attrs
}

func fifoIDs(r *Result) (group, dedup *string) {
	g := r.InstanceID
	if g == "" {
		g = "stackagent"
	}
	sum := sha256.Sum256([]byte(r.EventID + "\x00" + r.InstanceID + "\x00" + string(r.Status)))
	return aws.String(g), aws.String(hex.EncodeToString(sum[:]))
}

// Reply target kinds.
const (
	ReplySQS = "sqs"
	ReplySNS = "sns"
)

// ReplyTarget is where results go: an SQS queue URL or an SNS topic ARN.
type ReplyTarget struct {
	Kind string // ReplySQS or ReplySNS
	// Target is the queue URL or the topic ARN, as given.
	Target string
	// Region is the region the URL or ARN names ("" when it names none,
	// as a test server's URL does).
	Region string
}

var (
	topicARN  = lazyre.New(`^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$`)
	queueName = lazyre.New(`^[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
)

// ParseReplyTarget accepts an SQS queue URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or any http(s) endpoint
// with /ACCOUNT/NAME as its path) or an SNS topic ARN
// (arn:aws:sns:REGION:ACCOUNT:NAME).
func ParseReplyTarget(s string) (ReplyTarget, error) {
	if strings.HasPrefix(s, "arn:") {
		m := topicARN().FindStringSubmatch(s)
		if m == nil {
			return ReplyTarget{}, fmt.Errorf("reply target %q: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", s)
		}
		return ReplyTarget{Kind: ReplySNS, Target: s, Region: m[1]}, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ReplyTarget{}, fmt.Errorf("reply target %q: want an SQS queue URL or an SNS topic ARN", s)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || !queueName().MatchString(parts[1]) || u.RawQuery != "" {
		return ReplyTarget{}, fmt.Errorf("reply target %q: an SQS queue URL's path is /ACCOUNT/QUEUE_NAME", s)
	}
	return ReplyTarget{Kind: ReplySQS, Target: s, Region: awsconfig.RegionFromURL(s)}, nil
}

// Reporter returns the reporter for t with the given clients (only the one
// t needs is used).
func (t ReplyTarget) Reporter(sqsClient SQSSendAPI, snsClient SNSPublishAPI) Reporter {
	if t.Kind == ReplySNS {
		return NewSNSReporter(snsClient, t.Target)
	}
	return NewSQSReporter(sqsClient, t.Target)
}

// Reportable tells whether r, the result of ev, goes to the reply queue or
// topic. A host an event is not meant for answers nothing (its skip stays
// in runs/), so a deploy to one instance of a thousand gets one answer; it
// answers "skipped" only when the event names it among its instances and
// still is not for it (another stack or layer), so that the controller
// waiting for it learns why.
func Reportable(ev *Event, r *Result) bool {
	if r.Status != StatusSkipped {
		return true
	}
	return slices.Contains(ev.Instances, r.InstanceID)
}
