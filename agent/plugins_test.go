package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// TestRunRecipeWithPlugin wires the shipped s3file plugin end to end:
// built as a real binary into a plugin directory, discovered by
// run-recipe, its s3_file resource downloads an object from a real
// S3-compatible server (fauxqs) and is up to date on the second run.
func TestRunRecipeWithPlugin(t *testing.T) {
	srv := sqstest.Shared(t)
	root := t.TempDir()
	pluginDir := filepath.Join(root, "plugins")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "s3file"), "../plugins/s3file").CombinedOutput(); err != nil {
		t.Fatalf("build plugin: %v\n%s", err, out)
	}
	client := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("agent-plugin-test")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("agent-plugin-test"), Key: aws.String("motd"),
		Body: strings.NewReader("hello from s3\n")}); err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{"cb/p/recipes/default.lua": `s3_file "/etc/motd" {
  bucket = "agent-plugin-test", key = "motd", region = "` + srv.Region + `",
  endpoint = "` + srv.Endpoint + `", access_key_id = "test", secret_access_key = "test",
}
`})
	args := []string{"run-recipe", "--root", root, "--plugin-dir", pluginDir, "--cookbooks", filepath.Join(root, "cb"), "p"}
	r := runCLI(t, args...)
	if r.code != 0 || !strings.Contains(r.out, "1/1 resources updated") {
		t.Fatalf("first run: %+v", r)
	}
	b, err := os.ReadFile(filepath.Join(root, "etc/motd"))
	if err != nil || string(b) != "hello from s3\n" {
		t.Fatalf("downloaded %q, %v", b, err)
	}
	if r := runCLI(t, args...); r.code != 0 || !strings.Contains(r.out, "0/1 resources updated") {
		t.Fatalf("second run: %+v", r)
	}
	// validate knows the plugin's kind too, and checks its properties.
	if v := runCLI(t, "validate", "--root", root, "--plugin-dir", pluginDir, filepath.Join(root, "cb")); v.code != 0 {
		t.Fatalf("validate: %+v", v)
	}
	writeTree(t, root, map[string]string{"cb/p/recipes/bad.lua": "s3_file \"/x\" { bukket = \"b\" }\n"})
	if v := runCLI(t, "validate", "--root", root, "--plugin-dir", pluginDir, filepath.Join(root, "cb")); v.code != 1 || !strings.Contains(v.out, `bad.lua:1: s3_file[/x]: unknown property "bukket" (did you mean "bucket"?)`) {
		t.Fatalf("validate bad: %+v", v)
	}
}
