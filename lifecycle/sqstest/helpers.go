package sqstest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const callTimeout = 10 * time.Second

func callCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// CreateQueue creates a queue with the given attributes (nil: defaults)
// and returns its URL. A name ending in .fifo makes a FIFO queue.
func (s *Server) CreateQueue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := s.SQS.CreateQueue(callCtx(t), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("sqstest: create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// CreateQueueWithDLQ creates name and name-dlq, with a redrive policy that
// moves a message to the DLQ once it was received more than
// maxReceiveCount times. It returns both URLs.
func (s *Server) CreateQueueWithDLQ(t testing.TB, name string, maxReceiveCount int) (url, dlqURL string) {
	t.Helper()
	dlqURL = s.CreateQueue(t, name+"-dlq", nil)
	policy, err := json.Marshal(map[string]string{
		"deadLetterTargetArn": s.QueueARN(t, dlqURL),
		"maxReceiveCount":     strconv.Itoa(maxReceiveCount),
	})
	if err != nil {
		t.Fatal(err)
	}
	url = s.CreateQueue(t, name, map[string]string{"RedrivePolicy": string(policy)})
	return url, dlqURL
}

// QueueARN returns the ARN of the queue at url.
func (s *Server) QueueARN(t testing.TB, url string) string {
	t.Helper()
	out, err := s.SQS.GetQueueAttributes(callCtx(t), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("sqstest: queue arn of %s: %v", url, err)
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		t.Fatalf("sqstest: queue %s has no QueueArn attribute", url)
	}
	return arn
}

// CreateTopic creates an SNS topic and returns its ARN.
func (s *Server) CreateTopic(t testing.TB, name string) string {
	t.Helper()
	out, err := s.SNS.CreateTopic(callCtx(t), &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("sqstest: create topic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// Subscribe subscribes the queue at queueURL to topicARN. raw selects raw
// message delivery (the body is the message itself, attributes become SQS
// message attributes); otherwise SNS wraps it in its JSON notification.
// It returns the subscription ARN.
func (s *Server) Subscribe(t testing.TB, topicARN, queueURL string, raw bool) string {
	t.Helper()
	in := &sns.SubscribeInput{
		TopicArn: aws.String(topicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(s.QueueARN(t, queueURL)), ReturnSubscriptionArn: true,
	}
	if raw {
		in.Attributes = map[string]string{"RawMessageDelivery": "true"}
	}
	out, err := s.SNS.Subscribe(callCtx(t), in)
	if err != nil {
		t.Fatalf("sqstest: subscribe %s to %s: %v", queueURL, topicARN, err)
	}
	return aws.ToString(out.SubscriptionArn)
}

// Send sends body to the queue and returns the message id.
func (s *Server) Send(t testing.TB, queueURL, body string) string {
	t.Helper()
	out, err := s.SQS.SendMessage(callCtx(t), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("sqstest: send to %s: %v", queueURL, err)
	}
	return aws.ToString(out.MessageId)
}

// ReceiveOne long-polls the queue (up to wait, at most 20 s) for one
// message, asking for all attributes; it returns nil when none came.
func (s *Server) ReceiveOne(t testing.TB, queueURL string, wait time.Duration) *sqstypes.Message {
	t.Helper()
	out, err := s.SQS.ReceiveMessage(callCtx(t), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 1,
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("sqstest: receive from %s: %v", queueURL, err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	return &out.Messages[0]
}
