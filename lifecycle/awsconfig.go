package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stackagent/stackagent/internal/awshttp"
)

// ErrNoRegion means no AWS region was configured or could be derived.
var ErrNoRegion = errors.New(`no AWS region: set "region" in the agent config (or AWS_REGION)`)

// LoadAWSConfig loads the AWS configuration the SQS, SNS and Auto Scaling
// clients share, with the SDK's default chains: credentials from the
// environment, the shared config and credentials files, then the instance
// profile (IMDS) on EC2, resolved lazily on the first call.
//
// region wins when set; else the SDK's (AWS_REGION, AWS_DEFAULT_REGION,
// the shared config profile); else the region in endpoint's host name (a
// regional or VPC endpoint such as sqs.eu-west-1.amazonaws.com). This
// function never asks IMDS for the region (a host off EC2 fails at once:
// with ErrNoRegion, naming the config key "region"); the daemon passes the
// instance's region from the automatic attributes (IMDSv2, read once at
// start) when neither the config nor the queue URL names one.
//
// endpoint, when set, is the base endpoint of every client made from the
// config (a test server, a VPC interface endpoint). To give one service
// another endpoint, set it on that client:
// sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = &u }).
// The SDK's AWS_ENDPOINT_URL_<SERVICE> variables work as well.
func LoadAWSConfig(ctx context.Context, region, endpoint string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.Client())}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("aws endpoint %q: want an http(s) URL", endpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = RegionFromURL(endpoint)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// regionInHost matches the region label of AWS host names:
// sqs.us-east-1.amazonaws.com, eu-west-1.queue.amazonaws.com,
// vpce-…-….sqs.ap-southeast-2.vpce.amazonaws.com, sqs.cn-north-1.amazonaws.com.cn.
var regionInHost = regexp.MustCompile(`(?:^|\.)([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.`)

// RegionFromURL returns the AWS region named in a URL's host (an SQS queue
// URL, a regional or VPC endpoint), or "" when it names none.
func RegionFromURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	if m := regionInHost.FindStringSubmatch(u.Hostname() + "."); m != nil {
		return m[1]
	}
	return ""
}
