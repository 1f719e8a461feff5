package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/proto/sdk"
)

// provider implements sdk.Provider for s3_file.
type provider struct{}

var _ sdk.Provider = (*provider)(nil)

func (*provider) Schema(context.Context) ([]sdk.Kind, error) {
	return []sdk.Kind{{
		Name: "s3_file", Doc: "download an S3 object to a file, idempotent by ETag or checksum",
		Actions: []string{"create", "create_if_missing", "delete"}, DefaultAction: "create",
		Props: []sdk.Prop{
			{Name: "path", Type: sdk.String, NameProperty: true},
			{Name: "bucket", Type: sdk.String},
			{Name: "key", Type: sdk.String},
			{Name: "mode", Type: sdk.Mode, Default: "0644"},
			{Name: "checksum", Type: sdk.String},
			{Name: "region", Type: sdk.String},
			{Name: "endpoint", Type: sdk.String},
			{Name: "access_key_id", Type: sdk.String, Sensitive: true},
			{Name: "secret_access_key", Type: sdk.String, Sensitive: true},
		},
	}}, nil
}

// Load reads the local file and, unless it is only to be deleted or
// created if missing and it exists, the object's metadata.
func (*provider) Load(ctx context.Context, r *sdk.Resource) (sdk.State, error) {
	path := r.Path(r.Str("path"))
	st, err := localState(path)
	if err != nil {
		return nil, err
	}
	if r.Action == "delete" || (r.Action == "create_if_missing" && st["exists"] == "true") {
		return st, nil
	}
	if r.Str("bucket") == "" || r.Str("key") == "" {
		return nil, errors.New("bucket and key are required")
	}
	client, err := newClient(ctx, r)
	if err != nil {
		return nil, err
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(r.Str("bucket")), Key: aws.String(r.Str("key"))})
	if err != nil {
		return nil, fmt.Errorf("head %s: %w", objectURL(r), err)
	}
	st["etag"] = strings.Trim(aws.ToString(head.ETag), `"`)
	st["size"] = strconv.FormatInt(aws.ToInt64(head.ContentLength), 10)
	r.Log.Debug("loaded", "object", objectURL(r), "etag", st["etag"], "local_sha256", st["sha256"])
	return st, nil
}

func (*provider) Test(_ context.Context, r *sdk.Resource, st sdk.State) ([]sdk.Change, error) {
	path := r.Str("path")
	exists := st["exists"] == "true"
	if r.Action == "delete" {
		if exists {
			return []sdk.Change{{Desc: "delete file " + path}}, nil
		}
		return nil, nil
	}
	if !exists {
		return []sdk.Change{{Desc: fmt.Sprintf("download %s to %s", objectURL(r), path)}}, nil
	}
	var changes []sdk.Change
	if r.Action == "create" && !upToDate(r, st) {
		changes = append(changes, sdk.Change{Desc: fmt.Sprintf("update %s from %s (sha256 %s)", path, objectURL(r), short(st["sha256"]))})
	}
	if want := normMode(r.Str("mode")); st["mode"] != want {
		changes = append(changes, sdk.Change{Desc: fmt.Sprintf("change mode of %s from %s to %s", path, st["mode"], want)})
	}
	return changes, nil
}

// upToDate says whether the local file holds the object.
func upToDate(r *sdk.Resource, st sdk.State) bool {
	if sum := strings.ToLower(r.Str("checksum")); sum != "" {
		return st["sha256"] == strings.TrimPrefix(sum, "sha256:")
	}
	etag := st["etag"]
	if !strings.Contains(etag, "-") && st["md5"] == etag {
		return true
	}
	return st["recorded_etag"] != "" && st["recorded_etag"] == etag
}

func (*provider) Apply(ctx context.Context, r *sdk.Resource, st sdk.State) error {
	path := r.Path(r.Str("path"))
	if r.Action == "delete" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	mode, err := strconv.ParseUint(normMode(r.Str("mode")), 8, 32)
	if err != nil {
		return fmt.Errorf("mode %q: %w", r.Str("mode"), err)
	}
	if st["exists"] == "true" && (r.Action == "create_if_missing" || upToDate(r, st)) {
		return os.Chmod(path, os.FileMode(mode))
	}
	client, err := newClient(ctx, r)
	if err != nil {
		return err
	}
	r.Log.Info("downloading", "object", objectURL(r), "path", path)
	return download(ctx, client, r, path, os.FileMode(mode))
}

func newClient(ctx context.Context, r *sdk.Resource) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if reg := r.Str("region"); reg != "" {
		opts = append(opts, config.WithRegion(reg))
	}
	if id := r.Str("access_key_id"); id != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, r.Str("secret_access_key"), "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if ep := r.Str("endpoint"); ep != "" { // an S3-compatible server
			o.BaseEndpoint = aws.String(ep)
			o.UsePathStyle = true
		}
	}), nil
}

func objectURL(r *sdk.Resource) string { return "s3://" + r.Str("bucket") + "/" + r.Str("key") }

func normMode(m string) string {
	m = strings.TrimLeft(m, "0")
	for len(m) < 4 {
		m = "0" + m
	}
	return m
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
