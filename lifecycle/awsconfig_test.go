package lifecycle

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// isolateAWSEnv makes the SDK see no region, profile or files of the host,
// and never ask IMDS.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "",
		"AWS_ENDPOINT_URL_SQS": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

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
