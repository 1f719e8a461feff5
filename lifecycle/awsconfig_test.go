package lifecycle

import (
	"github.com/stackagent/stackagent/internal/testutil"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

func isolateAWSEnv(t *testing.T) { testutil.IsolateAWSEnv(t) }

// TestLoadAWSConfigAgainstFauxqs: credentials from the environment, the
// endpoint override reaching both the SQS and the SNS client.
func TestLoadAWSConfigAgainstFauxqs(t *testing.T) {
	isolateAWSEnv(t)
	srv := sqstest.Shared(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx := testCtx(t, 10*time.Second)
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: sqstest.Region, Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	sqsClient := sqs.NewFromConfig(cfg)
	out, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testQueueName(t))})
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSQSSource(sqsClient, *out.QueueUrl, SQSOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv.Send(t, *out.QueueUrl, "hello")
	if m := receiveOne(t, src, 3); string(m.Body) != "hello" {
		t.Fatalf("got %q", m.Body)
	}
	if _, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testQueueName(t))}); err != nil {
		t.Fatal(err)
	}
}
