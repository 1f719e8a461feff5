package ohai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrIMDSNotFound is returned for a metadata path IMDS does not have
// (such as public-ipv4 on a private instance); that key is left out.
var ErrIMDSNotFound = errors.New("imds: not found")

// imdsTokenTTL is the lifetime asked for the IMDSv2 session token; one
// Collect needs it for well under a second.
const imdsTokenTTL = "60"

// metadataKeys are the meta-data paths read into ec2, named as ohai names
// them ('-' and '/' become '_'). List values are split on newlines.
var metadataKeys = []struct {
	path string
	list bool
}{
	{"ami-id", false}, {"ami-launch-index", false}, {"hostname", false},
	{"instance-id", false}, {"instance-life-cycle", false}, {"instance-type", false},
	{"local-hostname", false}, {"local-ipv4", false}, {"mac", false},
	{"placement/availability-zone", false}, {"placement/availability-zone-id", false},
	{"public-hostname", false}, {"public-ipv4", false}, {"reservation-id", false},
	{"security-groups", true},
}

// imdsClient asks one IMDS endpoint with an IMDSv2 session token.
type imdsClient struct {
	endpoint string
	http     *http.Client
	token    string
}

// newHTTPClient returns a client that never goes through a proxy: IMDS is
// link-local, and HTTP_PROXY must not see its token.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
}

// fetchEC2 reads the instance's metadata and identity document into ohai's
// ec2 attributes, within o.IMDSTimeout. Any failure but a missing path
// fails it whole, so ec2 is never half filled.
func fetchEC2(ctx context.Context, o Options, endpoint string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, o.IMDSTimeout)
	defer cancel()
	c := &imdsClient{endpoint: endpoint, http: o.HTTPClient}
	if c.http == nil {
		c.http = newHTTPClient()
		defer c.http.CloseIdleConnections()
	}
	if err := c.fetchToken(ctx); err != nil {
		return nil, err
	}
	ec2 := map[string]any{}
	for _, k := range metadataKeys {
		v, err := c.get(ctx, "/latest/meta-data/"+k.path)
		if errors.Is(err, ErrIMDSNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		key := strings.NewReplacer("-", "_", "/", "_").Replace(k.path)
		if k.list {
			ec2[key] = splitLines(v)
		} else {
			ec2[key] = v
		}
	}
	if _, ok := ec2["instance_id"]; !ok {
		return nil, fmt.Errorf("imds %s: no instance-id", endpoint)
	}
	doc, err := c.get(ctx, "/latest/dynamic/instance-identity/document")
	if err != nil {
		return nil, err
	}
	var id struct {
		AccountID    string `json:"accountId"`
		Region       string `json:"region"`
		InstanceType string `json:"instanceType"`
		Architecture string `json:"architecture"`
	}
	if err := json.Unmarshal([]byte(doc), &id); err != nil {
		return nil, fmt.Errorf("imds %s: parse identity document: %w", endpoint, err)
	}
	setIf(ec2, "account_id", id.AccountID)
	setIf(ec2, "region", id.Region)
	setIf(ec2, "architecture", id.Architecture)
	if _, ok := ec2["instance_type"]; !ok {
		setIf(ec2, "instance_type", id.InstanceType)
	}
	return ec2, nil
}

// fetchToken gets an IMDSv2 session token. There is no IMDSv1 fallback.
func (c *imdsClient) fetchToken(ctx context.Context) error {
	body, err := c.do(ctx, http.MethodPut, "/latest/api/token",
		"X-aws-ec2-metadata-token-ttl-seconds", imdsTokenTTL)
	if err != nil {
		return fmt.Errorf("imdsv2 token: %w", err)
	}
	if body == "" {
		return fmt.Errorf("imdsv2 token from %s: empty", c.endpoint)
	}
	c.token = body
	return nil
}

// get reads one path with the session token.
func (c *imdsClient) get(ctx context.Context, path string) (string, error) {
	return c.do(ctx, http.MethodGet, path, "X-aws-ec2-metadata-token", c.token)
}

// do makes one request within imdsRequestTimeout and returns the body.
func (c *imdsClient) do(ctx context.Context, method, path, header, value string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, imdsRequestTimeout)
	defer cancel()
	url := c.endpoint + path
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	req.Header.Set(header, value)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%s %s: %w", method, url, ErrIMDSNotFound)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%s %s: %s", method, url, resp.Status)
	case err != nil:
		return "", fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// cloudAttrs derives ohai's provider-neutral cloud attributes from ec2.
func cloudAttrs(ec2 map[string]any) map[string]any {
	cloud := map[string]any{"provider": "ec2"}
	for _, k := range []string{"local_ipv4", "public_ipv4"} {
		if v, ok := ec2[k].(string); ok {
			cloud[k] = v
			cloud[k+"_addrs"] = []any{v}
		}
	}
	for _, k := range []string{"local_hostname", "public_hostname", "region"} {
		if v, ok := ec2[k].(string); ok {
			cloud[k] = v
		}
	}
	if v, ok := ec2["placement_availability_zone"].(string); ok {
		cloud["availability_zone"] = v
	}
	return cloud
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func splitLines(s string) []any {
	var out []any
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
