package plugins

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
	"github.com/stackagent/stackagent/recipes"
)

// s3Object creates a bucket on the fauxqs server and puts body at key.
func s3Object(t *testing.T, srv *sqstest.Server, bucket, key string, body []byte) {
	t.Helper()
	client := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := t.Context()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func s3Recipe(srv *sqstest.Server, bucket, extra string) string {
	return `
s3_file "/srv/www/wp/shared/uploads.tar.gz" {
  bucket = "` + bucket + `", key = "assets/uploads.tar.gz", mode = "0640",
  endpoint = "` + srv.Endpoint + `", region = "` + srv.Region + `",
  access_key_id = "test", secret_access_key = "test",
  notifies = { "write", "log[downloaded]", "immediately" },` + extra + `
}
log "downloaded" { action = "nothing" }
log "after"
`
}

func TestS3FileConvergesThenUpToDateAndWhyRun(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	bucket := "s3file-converge"
	s3Object(t, srv, bucket, "assets/uploads.tar.gz", []byte("version one"))
	dir, _ := pluginDir(t, s3filePkg, "s3file")
	reg, host, logs := setup(t, dir, Options{CacheDir: t.TempDir()})
	root := t.TempDir()
	target := filepath.Join(root, "srv/www/wp/shared/uploads.tar.gz")

	res := converge(t.Context(), t, reg, root, s3Recipe(srv, bucket, ""), false)
	if res.err != nil {
		t.Fatalf("first run: %v\n%s", res.err, res.out)
	}
	if b, _ := os.ReadFile(target); string(b) != "version one" {
		t.Fatalf("target holds %q", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	rr, _ := status(res.rep, "s3_file[/srv/www/wp/shared/uploads.tar.gz]")
	if rr.Status != recipes.StatusUpdated || !strings.Contains(res.out, "download s3://s3file-converge/assets/uploads.tar.gz") {
		t.Fatalf("first run: %+v\n%s", rr, res.out)
	}
	if n, _ := status(res.rep, "log[downloaded]"); n.NotifiedBy == "" {
		t.Fatalf("notification did not run:\n%s", res.out)
	}
	if !strings.Contains(logs.String(), "downloading") || !strings.Contains(logs.String(), "plugin=s3file") {
		t.Fatalf("the plugin's log did not reach the agent's logger:\n%s", logs.String())
	}

	res = converge(t.Context(), t, reg, root, s3Recipe(srv, bucket, ""), false)
	rr, _ = status(res.rep, "s3_file[/srv/www/wp/shared/uploads.tar.gz]")
	if res.err != nil || rr.Status != recipes.StatusUpToDate || res.rep.UpdatedResources != 0 {
		t.Fatalf("second run: %v %+v\n%s", res.err, rr, res.out)
	}

	s3Object(t, srv, bucket, "assets/uploads.tar.gz", []byte("version two"))
	res = converge(t.Context(), t, reg, root, s3Recipe(srv, bucket, ""), true)
	if res.err != nil || !strings.Contains(res.out, "Would update /srv/www/wp/shared/uploads.tar.gz") {
		t.Fatalf("why-run: %v\n%s", res.err, res.out)
	}
	if b, _ := os.ReadFile(target); string(b) != "version one" {
		t.Fatalf("why-run changed the file: %q", b)
	}

	// Guards are the engine's: the plugin is not even asked.
	res = converge(t.Context(), t, reg, root, s3Recipe(srv, bucket, "\n  only_if = function() return false end,"), false)
	if rr, _ := status(res.rep, "s3_file[/srv/www/wp/shared/uploads.tar.gz]"); rr.Status != recipes.StatusSkipped {
		t.Fatalf("guard: %+v", rr)
	}
	res = converge(t.Context(), t, reg, root, s3Recipe(srv, bucket, ""), false)
	if b, _ := os.ReadFile(target); res.err != nil || string(b) != "version two" {
		t.Fatalf("update: %v %q\n%s", res.err, b, res.out)
	}
	if got := host.Running(); len(got) != 1 {
		t.Fatalf("running: %v", got)
	}
	host.Close()
	if got := host.Running(); len(got) != 0 {
		t.Fatalf("still running after Close: %v", got)
	}
}

func TestS3FilePropertiesCheckedAtCompileTime(t *testing.T) {
	t.Parallel()
	dir, _ := pluginDir(t, s3filePkg, "s3file")
	reg, _, _ := setup(t, dir, Options{})
	res := converge(t.Context(), t, reg, t.TempDir(), "\n\ns3_file \"/x\" { bucket = \"b\", kee = \"k\" }\n", false)
	if res.err == nil || !strings.Contains(res.err.Error(), "default.lua:3") || !strings.Contains(res.err.Error(), "kee") {
		t.Fatalf("err = %v", res.err)
	}
	res = converge(t.Context(), t, reg, t.TempDir(), "s3_file \"/x\" { bucket = \"b\", key = \"k\", mode = true }\n", false)
	if res.err == nil || !strings.Contains(res.err.Error(), "default.lua:1") {
		t.Fatalf("err = %v", res.err)
	}
}
