package secrets_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stackagent/stackagent/internal/secrets"
)

// TestResolveStalledEndpoint: an endpoint that accepts the connection and
// never answers (a real TCP listener on 127.0.0.1) fails the lookup at the
// resolver's deadline with context.DeadlineExceeded, for SSM and Secrets
// Manager, instead of blocking the run.
func TestResolveStalledEndpoint(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never read or answered
		}
	}()
	t.Cleanup(func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	})
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "not-a-real-secret-key", ""),
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	r := secrets.NewFromConfig(cfg)
	r.Timeout = 300 * time.Millisecond
	for _, ref := range []string{"ssm:/prod/db", "secretsmanager:prod/db"} {
		done := make(chan error, 1)
		go func() {
			_, err := r.Resolve(context.Background(), ref)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: error %v, want the deadline", ref, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: still waiting for the stalled endpoint after a minute", ref)
		}
	}
}
