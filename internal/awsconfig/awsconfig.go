// Package awsconfig is the one place the agent's AWS configuration is
// built: every client (SQS, SNS, Auto Scaling, S3 for custom cookbooks and
// deploy archives, SSM and Secrets Manager) comes from Load, with the
// deadlines of internal/awshttp and one region order. It imports nothing
// of the project but internal/awshttp.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stackagent/stackagent/internal/awshttp"
	"github.com/stackagent/stackagent/internal/lazyre"
)

// ErrNoRegion means no AWS region was configured or could be derived.
var ErrNoRegion = errors.New(`no AWS region: set "region" in the agent config (or AWS_REGION)`)

// Options are where a region may come from, and the endpoint.
type Options struct {
	// Region is the agent config's "region"; it wins when set.
	Region string
	// Endpoint, when set, is the base endpoint of every client made from
	// the config (a test server, a VPC interface endpoint). To give one
	// service another endpoint, set it on that client. The SDK's
	// AWS_ENDPOINT_URL_<SERVICE> variables work as well.
	Endpoint string
	// URLs (the queue URL, say) may name a region in their host name.
	URLs []string
	// Instance is the instance's region (ec2.region of the automatic
	// attributes, read from IMDS once at start; see InstanceRegion).
	Instance string
}

// Load loads the AWS configuration with the SDK's default chains:
// credentials from the environment, the shared config and credentials
// files, then the instance profile (IMDS) on EC2, resolved lazily on the
// first call.
//
// The region, first found: o.Region; the region in the host of o.URLs
// (the queue the agent reads: its region is where the calls must go);
// o.Instance (the instance's own region, from IMDS); the SDK's
// (AWS_REGION, AWS_DEFAULT_REGION, the shared config profile); the region
// in o.Endpoint's host (sqs.eu-west-1.amazonaws.com). This is the order
// the agent has always used.
// Load never asks IMDS itself (a host off EC2 fails at once, with
// ErrNoRegion naming the config key "region").
func Load(ctx context.Context, o Options) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.Client())}
	region := o.Region
	for _, u := range o.URLs {
		if region == "" {
			region = RegionFromURL(u)
		}
	}
	if region == "" {
		region = o.Instance
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("aws endpoint %q: want an http(s) URL", o.Endpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = RegionFromURL(o.Endpoint)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// InstanceRegion is the instance's region from the automatic attributes
// (ec2.region), "" off EC2.
func InstanceRegion(auto map[string]any) string {
	if ec2, ok := auto["ec2"].(map[string]any); ok {
		if r, ok := ec2["region"].(string); ok {
			return r
		}
	}
	return ""
}

// regionInHost matches the region label of AWS host names:
// sqs.us-east-1.amazonaws.com, eu-west-1.queue.amazonaws.com,
// vpce-…-….sqs.ap-southeast-2.vpce.amazonaws.com, sqs.cn-north-1.amazonaws.com.cn.
var regionInHost = lazyre.New(`(?:^|\.)([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)\.`)

// RegionFromURL returns the AWS region named in a URL's host (an SQS queue
// URL, a regional or VPC endpoint), or "" when it names none.
func RegionFromURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	if m := regionInHost().FindStringSubmatch(u.Hostname() + "."); m != nil {
		return m[1]
	}
	return ""
}
