package awsconfig

import (
	"context"
	"errors"
	"github.com/stackagent/stackagent/internal/testutil"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isolateAWSEnv(t *testing.T) { testutil.IsolateAWSEnv(t) }

func TestLoadNoRegionFailsFast(t *testing.T) {
	isolateAWSEnv(t)
	start := time.Now()
	_, err := Load(testCtx(t), Options{})
	if !errors.Is(err, ErrNoRegion) || !strings.Contains(err.Error(), `"region"`) {
		t.Fatalf("error = %v, want ErrNoRegion naming \"region\"", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s to find no region", d)
	}
	// A host name without a region is no help either.
	if _, err := Load(testCtx(t), Options{Endpoint: "http://127.0.0.1:4566"}); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("error = %v, want ErrNoRegion", err)
	}
}

func TestLoadRegionPrecedence(t *testing.T) {
	isolateAWSEnv(t)
	ctx := testCtx(t)
	cfg, err := Load(ctx, Options{Endpoint: "https://sqs.eu-west-1.amazonaws.com"})
	if err != nil || cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != "https://sqs.eu-west-1.amazonaws.com" {
		t.Fatalf("from endpoint: region %q endpoint %v, %v", cfg.Region, cfg.BaseEndpoint, err)
	}
	queue := "https://sqs.us-east-2.amazonaws.com/123456789012/q"
	if cfg, err = Load(ctx, Options{URLs: []string{queue}, Endpoint: "https://sqs.eu-west-1.amazonaws.com", Instance: "eu-north-1"}); err != nil || cfg.Region != "us-east-2" {
		t.Fatalf("queue URL over endpoint and instance: region %q, %v", cfg.Region, err)
	}
	if cfg, err = Load(ctx, Options{Endpoint: "https://sqs.eu-west-1.amazonaws.com", Instance: "eu-north-1"}); err != nil || cfg.Region != "eu-north-1" {
		t.Fatalf("instance over endpoint: region %q, %v", cfg.Region, err)
	}
	t.Setenv("AWS_REGION", "ap-south-1")
	if cfg, err = Load(ctx, Options{URLs: []string{queue}, Instance: "eu-north-1"}); err != nil || cfg.Region != "us-east-2" {
		t.Fatalf("queue URL over env: region %q, %v", cfg.Region, err)
	}
	if cfg, err = Load(ctx, Options{Instance: "eu-north-1"}); err != nil || cfg.Region != "eu-north-1" {
		t.Fatalf("instance over env: region %q, %v", cfg.Region, err)
	}
	if cfg, err = Load(ctx, Options{Region: "us-west-1", URLs: []string{queue}}); err != nil || cfg.Region != "us-west-1" {
		t.Fatalf("config over env: region %q, %v", cfg.Region, err)
	}
	if cfg, err = Load(ctx, Options{Endpoint: "https://sqs.eu-west-1.amazonaws.com"}); err != nil || cfg.Region != "ap-south-1" {
		t.Fatalf("env over endpoint: region %q, %v", cfg.Region, err)
	}
	if cfg, err = Load(ctx, Options{Region: "us-west-2"}); err != nil || cfg.Region != "us-west-2" || cfg.BaseEndpoint != nil {
		t.Fatalf("explicit: region %q endpoint %v, %v", cfg.Region, cfg.BaseEndpoint, err)
	}
}

func TestLoadRefusesBadEndpoint(t *testing.T) {
	isolateAWSEnv(t)
	for _, e := range []string{"127.0.0.1:4566", "ftp://x", "http://"} {
		if _, err := Load(testCtx(t), Options{Region: "us-east-1", Endpoint: e}); err == nil {
			t.Errorf("endpoint %q accepted", e)
		}
	}
}

func TestRegionFromURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://sqs.us-east-1.amazonaws.com/123456789012/q":               "us-east-1",
		"https://eu-west-1.queue.amazonaws.com/123456789012/q":             "eu-west-1",
		"https://vpce-0a1b2c3d-4e5f.sqs.ap-southeast-2.vpce.amazonaws.com": "ap-southeast-2",
		"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q":           "cn-north-1",
		"https://sqs.us-gov-west-1.amazonaws.com/123456789012/q":           "us-gov-west-1",
		"https://autoscaling.il-central-1.amazonaws.com":                   "il-central-1",
		"http://127.0.0.1:4566/000000000000/q":                             "",
		"http://localhost:4566":                                            "",
		"not a url":                                                        "",
		"":                                                                 "",
	} {
		if got := RegionFromURL(in); got != want {
			t.Errorf("RegionFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}
