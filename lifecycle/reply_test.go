package lifecycle

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

func testResult() *Result {
	start := time.Date(2026, 11, 25, 10, 11, 12, 0, time.UTC)
	return &Result{
		EventID: "ev-42", EventType: TypeDeploy, App: "wordpress", Command: "deploy",
		InstanceID: "i-0abc", Stack: "prod", Status: StatusSuccess, RunList: []string{"wordpress::deploy"},
		Start: start, End: start.Add(3 * time.Second), Updated: 2, Total: 14, Output: "done",
	}
}

func decodeResult(t *testing.T, body string) *Result {
	t.Helper()
	var r Result
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("result body %q: %v", body, err)
	}
	return &r
}

func TestSQSReporterSendsResultWithAttributes(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t), nil)
	want := testResult()
	if err := NewSQSReporter(srv.SQS, url).Report(testCtx(t, 5*time.Second), want); err != nil {
		t.Fatal(err)
	}
	m := srv.ReceiveOne(t, url, time.Second)
	if m == nil {
		t.Fatal("no result on the reply queue")
	}
	if got := decodeResult(t, *m.Body); !reflect.DeepEqual(got, want) {
		t.Fatalf("result = %+v, want %+v", got, want)
	}
	for k, v := range map[string]string{AttrEventID: "ev-42", AttrStatus: "success", AttrInstanceID: "i-0abc"} {
		a, ok := m.MessageAttributes[k]
		if !ok || *a.DataType != "String" || *a.StringValue != v {
			t.Errorf("attribute %s = %+v, want String %q", k, a, v)
		}
	}
}

func TestSQSReporterFIFOQueue(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	url := srv.CreateQueue(t, testQueueName(t)+".fifo", nil) // no content-based dedup: ids must be set
	rep := NewSQSReporter(srv.SQS, url)
	r := testResult()
	for range 2 { // the same result twice: deduplicated
		if err := rep.Report(testCtx(t, 5*time.Second), r); err != nil {
			t.Fatal(err)
		}
	}
	m := srv.ReceiveOne(t, url, time.Second)
	if m == nil || m.Attributes["MessageGroupId"] != "i-0abc" {
		t.Fatalf("fifo result = %+v, want group i-0abc", m)
	}
	// Deleted, so the group is unlocked: a second copy would come now.
	if _, err := srv.SQS.DeleteMessage(testCtx(t, 5*time.Second), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if m := srv.ReceiveOne(t, url, time.Second); m != nil {
		t.Fatalf("duplicate result delivered: %s", *m.Body)
	}
}

func TestSNSReporterRawDelivery(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	topic := srv.CreateTopic(t, testQueueName(t))
	url := srv.CreateQueue(t, testQueueName(t), nil)
	srv.Subscribe(t, topic, url, true)
	want := testResult()
	if err := NewSNSReporter(srv.SNS, topic).Report(testCtx(t, 5*time.Second), want); err != nil {
		t.Fatal(err)
	}
	m := srv.ReceiveOne(t, url, time.Second)
	if m == nil {
		t.Fatal("no result delivered to the subscribed queue")
	}
	if got := decodeResult(t, *m.Body); !reflect.DeepEqual(got, want) {
		t.Fatalf("raw body = %+v, want %+v", got, want)
	}
	if a := m.MessageAttributes[AttrStatus]; a.StringValue == nil || *a.StringValue != "success" {
		t.Fatalf("raw delivery lost the status attribute: %+v", m.MessageAttributes)
	}
}

func TestSNSReporterWrappedDelivery(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	topic := srv.CreateTopic(t, testQueueName(t))
	url := srv.CreateQueue(t, testQueueName(t), nil)
	srv.Subscribe(t, topic, url, false)
	want := testResult()
	want.Status, want.Reason, want.ExitCode = StatusFailed, "service[apache2] failed", 1
	if err := NewSNSReporter(srv.SNS, topic).Report(testCtx(t, 5*time.Second), want); err != nil {
		t.Fatal(err)
	}
	m := srv.ReceiveOne(t, url, time.Second)
	if m == nil {
		t.Fatal("no notification delivered to the subscribed queue")
	}
	var n struct {
		Type, TopicArn, Message string
		MessageAttributes       map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(*m.Body), &n); err != nil {
		t.Fatalf("notification %q: %v", *m.Body, err)
	}
	if n.Type != "Notification" || n.TopicArn != topic {
		t.Fatalf("notification type %q topic %q", n.Type, n.TopicArn)
	}
	if got := decodeResult(t, n.Message); !reflect.DeepEqual(got, want) {
		t.Fatalf("wrapped result = %+v, want %+v", got, want)
	}
	for k, v := range map[string]string{AttrEventID: "ev-42", AttrStatus: "failed", AttrInstanceID: "i-0abc"} {
		if a := n.MessageAttributes[k]; a.Type != "String" || a.Value != v {
			t.Errorf("notification attribute %s = %+v, want String %q", k, a, v)
		}
	}
}

func TestReportToMissingTargetFails(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	r := testResult()
	if err := NewSQSReporter(srv.SQS, srv.Endpoint+"/000000000000/no-such-queue").Report(testCtx(t, 5*time.Second), r); err == nil {
		t.Error("report to a missing queue: no error")
	}
	if err := NewSNSReporter(srv.SNS, "arn:aws:sns:us-east-1:000000000000:no-such-topic").Report(testCtx(t, 5*time.Second), r); err == nil {
		t.Error("report to a missing topic: no error")
	}
}

func TestParseReplyTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, kind, region string
	}{
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/replies", ReplySQS, "eu-west-1"},
		{"https://sqs.us-east-1.amazonaws.com/123456789012/replies.fifo", ReplySQS, "us-east-1"},
		{"https://eu-central-1.queue.amazonaws.com/123456789012/r", ReplySQS, "eu-central-1"},
		{"http://127.0.0.1:4566/000000000000/replies", ReplySQS, ""},
		{"arn:aws:sns:us-east-1:123456789012:stack-results", ReplySNS, "us-east-1"},
		{"arn:aws-us-gov:sns:us-gov-west-1:123456789012:r.fifo", ReplySNS, "us-gov-west-1"},
	} {
		got, err := ParseReplyTarget(tc.in)
		if err != nil || got.Kind != tc.kind || got.Region != tc.region || got.Target != tc.in {
			t.Errorf("ParseReplyTarget(%q) = %+v, %v; want %s in %q", tc.in, got, err, tc.kind, tc.region)
		}
	}
	for _, bad := range []string{
		"", "replies", "ftp://sqs.us-east-1.amazonaws.com/1/q", "https://sqs.us-east-1.amazonaws.com/replies",
		"https://sqs.us-east-1.amazonaws.com/1/a/b", "https://sqs.us-east-1.amazonaws.com/1/bad name",
		"arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:us-east-1:123:t", "arn:aws:sns:us-east-1:123456789012:",
	} {
		if got, err := ParseReplyTarget(bad); err == nil {
			t.Errorf("ParseReplyTarget(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestReplyTargetReporter(t *testing.T) {
	t.Parallel()
	q, _ := ParseReplyTarget("https://sqs.eu-west-1.amazonaws.com/123456789012/replies")
	if _, ok := q.Reporter(nil, nil).(*SQSReporter); !ok {
		t.Error("queue url did not give an SQSReporter")
	}
	s, _ := ParseReplyTarget("arn:aws:sns:us-east-1:123456789012:results")
	if _, ok := s.Reporter(nil, nil).(*SNSReporter); !ok {
		t.Error("topic arn did not give an SNSReporter")
	}
}
