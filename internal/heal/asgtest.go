package heal

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
)

// SetInstanceHealthOK is Auto Scaling's answer to SetInstanceHealth, for
// tests that stand in for the API.
const SetInstanceHealthOK = `<SetInstanceHealthResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <ResponseMetadata>
    <RequestId>7c6e177f-f082-11e1-ac58-3714bEXAMPLE</RequestId>
  </ResponseMetadata>
</SetInstanceHealthResponse>`

// TestASGClient is a real Auto Scaling client sending to endpoint (a test
// server), with static credentials in eu-west-1 and no retries.
func TestASGClient(endpoint string) *autoscaling.Client {
	return autoscaling.New(autoscaling.Options{Region: "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1})
}
