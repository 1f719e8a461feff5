package resources

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// TestDeployFromS3 deploys an archive from a real S3-compatible server
// (fauxqs), reached as the agent reaches S3 on EC2: through the SDK's
// default configuration (here AWS_ENDPOINT_URL_S3 and static keys). A new
// object version makes a new release; the same one is up to date.
func TestDeployFromS3(t *testing.T) {
	srv := sqstest.Shared(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	client := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deploy-s3-test")}); err != nil {
		t.Fatal(err)
	}
	put := func(body []byte) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deploy-s3-test"), Key: aws.String("app.tar.gz"),
			Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	recipe := deployRecipe(`source_type = "s3", repository = "s3://deploy-s3-test/app.tar.gz"`)
	put(tarGzBytes(t, entry{"app/index.php", "s3 v1"}))
	mustDeploy(t, root, recipe, 1)
	cur := filepath.Join(root, deployTo, "current")
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "s3 v1" {
		t.Fatalf("index.php = %q", got)
	}
	mustDeploy(t, root, recipe, 0)
	put(tarGzBytes(t, entry{"app/index.php", "s3 v2"}))
	mustDeploy(t, root, recipe, 1)
	if got := readFile(t, filepath.Join(cur, "index.php")); got != "s3 v2" {
		t.Fatalf("after the new object: %q", got)
	}
}
