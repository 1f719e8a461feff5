package main

// The AWS clients the daemon's wiring builds beside the event source:
// the custom-cookbook fetcher's S3 client and the config's AWS options.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/lifecycle"
)

// cookbookFetcher returns update_custom_cookbooks: the source is the
// event's stackagent.custom_cookbooks attribute, else the config's.
func cookbookFetcher(cfg *Config, auto map[string]any, log *slog.Logger) func(context.Context, *lifecycle.Event) (string, error) {
	return func(ctx context.Context, ev *lifecycle.Event) (string, error) {
		src := cfg.CustomCookbooks
		if sa, ok := ev.Attributes["stackagent"].(map[string]any); ok {
			if cc, ok := sa["custom_cookbooks"].(map[string]any); ok {
				s, err := lifecycle.CookbookSourceFromAttributes(cc)
				if err != nil {
					return "", err
				}
				src = s
			}
		}
		if src == nil {
			return "", errors.New("update_custom_cookbooks: no source: set custom_cookbooks in agent.yaml or stackagent.custom_cookbooks in the stack's attributes")
		}
		f := &lifecycle.CookbookFetcher{Dir: filepath.Join(cfg.StateDir, "custom-cookbooks"), Log: log}
		if c := cfg.CustomCookbooks; c != nil { // agent.yaml's limits hold for any source
			f.MaxSize, f.MaxEntries = c.MaxSize, c.MaxEntries
		}
		if src.Type == "s3" {
			if awsCfg, err := awsconfig.Load(ctx, cfg.awsOptions(auto)); err == nil {
				f.S3 = newS3Client(awsCfg)
			}
		}
		res, err := f.Fetch(ctx, *src)
		if err != nil {
			return "", err
		}
		if !res.Changed {
			return fmt.Sprintf("custom cookbooks up to date at %s", res.Revision), nil
		}
		return fmt.Sprintf("custom cookbooks updated to %s in %s", res.Revision, res.Dir), nil
	}
}

// newS3Client builds the S3 client custom cookbook archives are read with
// (path-style when an endpoint is overridden, as S3-compatible servers
// need).
func newS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// awsOptions are the config's AWS settings and the instance's region
// (from the automatic attributes) for awsconfig.Load.
func (c *Config) awsOptions(auto map[string]any) awsconfig.Options {
	return awsconfig.Options{Region: c.Region, Endpoint: c.Endpoint, URLs: []string{c.QueueURL}, Instance: awsconfig.InstanceRegion(auto)}
}
