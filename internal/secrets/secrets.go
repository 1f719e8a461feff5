// Package secrets resolves the secret references of node attributes
// ({"secret": "REF"}) against AWS: SSM Parameter Store and Secrets
// Manager, with the instance's credentials. It satisfies the
// engine's SecretResolver (checked in agent/); the engine calls it when a recipe reads such an
// attribute and hides the value everywhere the run reports.
//
// References:
//
//	ssm:NAME                 SSM GetParameter, WithDecryption (SecureString)
//	secretsmanager:ID        Secrets Manager GetSecretValue, the SecretString
//	secretsmanager:ID#KEY    the same, the field KEY of the SecretString's JSON object
//
// NAME is a parameter name or ARN ("/prod/wp/db_password"); ID a secret
// name or ARN. Errors name the reference, never a value.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ErrBadReference is returned (wrapped) for a reference that names no
// known store or names nothing.
var ErrBadReference = errors.New(`bad secret reference: want "ssm:NAME", "secretsmanager:ID" or "secretsmanager:ID#KEY"`)

// ErrNoValue is returned (wrapped) when the store answered without a
// usable value: a binary-only secret, a JSON key that is absent or not a
// scalar.
var ErrNoValue = errors.New("no value")

// SSMAPI is the part of the SSM client the resolver uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsManagerAPI is the part of the Secrets Manager client the
// resolver uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Resolver resolves "ssm:" and "secretsmanager:" references. It holds no
// values: the engine caches each reference once per run.
type Resolver struct {
	ssm SSMAPI
	sm  SecretsManagerAPI
	// Timeout bounds one lookup (default CallTimeout): a store that does
	// not answer fails the resource that needs the secret, never hangs
	// the run.
	Timeout time.Duration
}

// CallTimeout is the default deadline of one secret lookup.
const CallTimeout = 30 * time.Second

func (r *Resolver) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	t := r.Timeout
	if t <= 0 {
		t = CallTimeout
	}
	return context.WithTimeout(ctx, t)
}

// New returns a resolver using the given clients (either may be nil: its
// references then fail with an error naming them).
func New(ssmClient SSMAPI, sm SecretsManagerAPI) *Resolver {
	return &Resolver{ssm: ssmClient, sm: sm}
}

// NewFromConfig returns a resolver with SSM and Secrets Manager clients
// made from cfg (awsconfig.Load's: the instance's credentials,
// the agent's region and endpoint).
func NewFromConfig(cfg aws.Config) *Resolver {
	return New(ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg))
}

// Resolve returns the value ref names.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	store, name, ok := strings.Cut(ref, ":")
	if !ok || name == "" {
		return "", fmt.Errorf("resolve %q: %w", ref, ErrBadReference)
	}
	switch store {
	case "ssm":
		return r.parameter(ctx, ref, name)
	case "secretsmanager":
		id, key, _ := strings.Cut(name, "#")
		if id == "" {
			return "", fmt.Errorf("resolve %q: %w", ref, ErrBadReference)
		}
		return r.secret(ctx, ref, id, key)
	}
	return "", fmt.Errorf("resolve %q: %w", ref, ErrBadReference)
}

func (r *Resolver) parameter(ctx context.Context, ref, name string) (string, error) {
	if r.ssm == nil {
		return "", fmt.Errorf("resolve %q: no SSM client", ref)
	}
	ctx, cancel := r.deadline(ctx)
	defer cancel()
	out, err := r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("resolve %q: ssm GetParameter: %w", ref, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("resolve %q: %w", ref, ErrNoValue)
	}
	return *out.Parameter.Value, nil
}

func (r *Resolver) secret(ctx context.Context, ref, id, key string) (string, error) {
	if r.sm == nil {
		return "", fmt.Errorf("resolve %q: no Secrets Manager client", ref)
	}
	ctx, cancel := r.deadline(ctx)
	defer cancel()
	out, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("resolve %q: secretsmanager GetSecretValue: %w", ref, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("resolve %q: %w: the secret has no SecretString (binary secrets are not supported)", ref, ErrNoValue)
	}
	if key == "" {
		return *out.SecretString, nil
	}
	return jsonField(ref, *out.SecretString, key)
}

// jsonField picks key of a SecretString holding a JSON object. Strings are
// returned as they are, numbers and booleans in their JSON form. The
// decoder's own errors are not wrapped: they may quote the secret.
func jsonField(ref, s, key string) (string, error) {
	var m map[string]json.RawMessage
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return "", fmt.Errorf("resolve %q: %w: the SecretString is not a JSON object", ref, ErrNoValue)
	}
	raw, ok := m[key]
	if !ok {
		return "", fmt.Errorf("resolve %q: %w: the SecretString has no key %q", ref, ErrNoValue, key)
	}
	var v any
	dv := json.NewDecoder(strings.NewReader(string(raw)))
	dv.UseNumber()
	if err := dv.Decode(&v); err != nil {
		return "", fmt.Errorf("resolve %q: %w: key %q is not valid JSON", ref, ErrNoValue, key)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("resolve %q: %w: key %q is not a string, number or boolean", ref, ErrNoValue, key)
}
