package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stackagent/stackagent/internal/secrets"
)

// No SSM or Secrets Manager server runs here, so these tests stand one in
// with an httptest server on 127.0.0.1 speaking the services' real wire
// protocol (AWS JSON 1.1): the SDK's real clients send their real requests
// to it. The fake checks what the SDK sends — POST /, the X-Amz-Target
// header (AmazonSSM.GetParameter, secretsmanager.GetSecretValue), the
// JSON body (Name and WithDecryption; SecretId), a SigV4 Authorization
// header — and answers with the response shapes documented in the SSM and
// Secrets Manager API references, including their error shapes
// (ParameterNotFound, ResourceNotFoundException as "__type").

type fakeAWS struct {
	t        *testing.T
	params   map[string]string // SSM parameter name → value
	secrets  map[string]string // secret id → SecretString
	mu       sync.Mutex
	requests []string // X-Amz-Target of each request
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.requests = append(f.requests, target)
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		f.t.Errorf("%s %s, want POST /", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		f.t.Errorf("request not signed with SigV4: %q", r.Header.Get("Authorization"))
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		f.t.Errorf("body %q: %v", body, err)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "5c4c1b3e-0000-4000-8000-000000000000")
	switch target {
	case "AmazonSSM.GetParameter":
		if in["WithDecryption"] != true {
			f.t.Errorf("GetParameter without WithDecryption: %s", body)
		}
		name, _ := in["Name"].(string)
		v, ok := f.params[name]
		if !ok {
			awsError(w, "ParameterNotFound", "message", "")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
			"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + name, "DataType": "text",
			"LastModifiedDate": 1.7325e9, "Name": name, "Type": "SecureString", "Value": v, "Version": 3,
		}})
	case "secretsmanager.GetSecretValue":
		id, _ := in["SecretId"].(string)
		v, ok := f.secrets[id]
		if !ok {
			awsError(w, "ResourceNotFoundException", "Message", "Secrets Manager can't find the specified secret.")
			return
		}
		out := map[string]any{
			"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + id + "-a1b2c3", "CreatedDate": 1.7325e9,
			"Name": id, "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1", "VersionStages": []string{"AWSCURRENT"},
		}
		if v != "<binary>" {
			out["SecretString"] = v
		} else {
			out["SecretBinary"] = "AAEC"
		}
		json.NewEncoder(w).Encode(out)
	default:
		f.t.Errorf("unexpected X-Amz-Target %q", target)
		awsError(w, "UnknownOperationException", "message", "")
	}
}

// awsError writes an AWS JSON 1.1 error: status 400, the code in __type
// (SSM uses "message", Secrets Manager "Message").
func awsError(w http.ResponseWriter, code, msgKey, msg string) {
	w.WriteHeader(http.StatusBadRequest)
	body := map[string]any{"__type": code}
	if msg != "" {
		body[msgKey] = msg
	}
	json.NewEncoder(w).Encode(body)
}

func newResolver(t *testing.T, f *fakeAWS) *secrets.Resolver {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "not-a-real-secret-key", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	return secrets.NewFromConfig(cfg)
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := &fakeAWS{
		params: map[string]string{"/prod/wp/db_password": "s3cr3t-Pa55"},
		secrets: map[string]string{
			"prod/wp":    `{"username":"wp","password":"json-Pa55","port":3306,"tls":true,"nested":{"a":1}}`,
			"prod/plain": "plain-string-secret",
			"prod/bin":   "<binary>",
		},
	}
	r := newResolver(t, f)
	ctx := context.Background()
	for _, tc := range []struct{ ref, want string }{
		{"ssm:/prod/wp/db_password", "s3cr3t-Pa55"},
		{"secretsmanager:prod/wp#password", "json-Pa55"},
		{"secretsmanager:prod/wp#port", "3306"},
		{"secretsmanager:prod/wp#tls", "true"},
		{"secretsmanager:prod/plain", "plain-string-secret"},
		{"secretsmanager:prod/wp", `{"username":"wp","password":"json-Pa55","port":3306,"tls":true,"nested":{"a":1}}`},
	} {
		got, err := r.Resolve(ctx, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
	if f.requests[0] != "AmazonSSM.GetParameter" || f.requests[1] != "secretsmanager.GetSecretValue" {
		t.Errorf("requests %v", f.requests)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	f := &fakeAWS{secrets: map[string]string{
		"prod/wp":  `{"password":"json-Pa55","nested":{"a":1}}`,
		"prod/bad": `not json but secret-value-xyz`,
		"prod/bin": "<binary>",
	}}
	r := newResolver(t, f)
	for _, tc := range []struct {
		ref, want string
		is        error
	}{
		{"ssm:/prod/wp/missing", `resolve "ssm:/prod/wp/missing": ssm GetParameter: `, nil},
		{"secretsmanager:prod/missing#password", `resolve "secretsmanager:prod/missing#password": secretsmanager GetSecretValue: `, nil},
		{"secretsmanager:prod/wp#user", `the SecretString has no key "user"`, secrets.ErrNoValue},
		{"secretsmanager:prod/wp#nested", `key "nested" is not a string, number or boolean`, secrets.ErrNoValue},
		{"secretsmanager:prod/bad#password", `the SecretString is not a JSON object`, secrets.ErrNoValue},
		{"secretsmanager:prod/bin", `binary secrets are not supported`, secrets.ErrNoValue},
		{"vault:prod/wp", `resolve "vault:prod/wp": bad secret reference`, secrets.ErrBadReference},
		{"ssm:", `bad secret reference`, secrets.ErrBadReference},
		{"secretsmanager:#key", `bad secret reference`, secrets.ErrBadReference},
	} {
		_, err := r.Resolve(context.Background(), tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q) error %v, want it to contain %q", tc.ref, err, tc.want)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Resolve(%q) error %v is not %v", tc.ref, err, tc.is)
		}
		for _, v := range []string{"json-Pa55", "secret-value-xyz"} {
			if strings.Contains(err.Error(), v) {
				t.Errorf("Resolve(%q) error leaks the value: %v", tc.ref, err)
			}
		}
	}
	// The service's error code reaches the caller.
	_, err := r.Resolve(context.Background(), "ssm:/nope")
	if !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("error %v does not name ParameterNotFound", err)
	}
	_, err = r.Resolve(context.Background(), "secretsmanager:nope")
	if !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("error %v does not name ResourceNotFoundException", err)
	}
}

func TestNoClient(t *testing.T) {
	t.Parallel()
	r := secrets.New(nil, nil)
	for _, ref := range []string{"ssm:/a", "secretsmanager:b"} {
		if _, err := r.Resolve(context.Background(), ref); err == nil || !strings.Contains(err.Error(), ref) {
			t.Errorf("Resolve(%q) = %v", ref, err)
		}
	}
}
