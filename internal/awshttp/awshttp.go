// Package awshttp is the HTTP client every AWS client of the agent is made
// with: connection, TLS and response-header deadlines, so that an endpoint
// that accepts a connection and never answers (a stalled proxy, a black
// hole) fails the call with a timeout instead of blocking a run or the
// daemon's receive loop. Per-call deadlines (context) come on top: a
// receive waits wait_seconds + 10 s, a secret 30 s.
package awshttp

import (
	"net"
	"net/http"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Deadlines of one HTTP request to AWS. ResponseHeader is longer than the
// longest SQS long poll (20 s), which answers only when it ends.
const (
	Dial           = 10 * time.Second
	TLSHandshake   = 10 * time.Second
	ResponseHeader = 45 * time.Second
)

// Client returns the SDK's buildable client with the deadlines above.
func Client() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = Dial }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = TLSHandshake
			tr.ResponseHeaderTimeout = ResponseHeader
		})
}
