package e2e

// HTTP to the site: every connection goes to 127.0.0.1:80 whatever the
// URL's host, so http://wp.test/… reaches the app's vhost with Host:
// wp.test, and WordPress's redirects (to http://wp.test/wp-admin/…) are
// followed to the same server.

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

const siteHost = "wp.test"

func siteTransport(keepAlive bool) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:80")
		},
		DisableKeepAlives: !keepAlive,
		MaxIdleConns:      4,
	}
}

// siteClient follows redirects (to the install page).
var siteClient = &http.Client{Transport: siteTransport(true), Timeout: 30 * time.Second}

// get fetches path from the site; the final URL is returned after
// redirects.
func get(path string) (status int, body, final string, err error) {
	resp, err := siteClient.Get("http://" + siteHost + path)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.String(), err
}

// getOK fetches path and fails t unless it answers 200.
func getOK(t *testing.T, path string) string {
	t.Helper()
	status, body, _, err := get(path)
	if err != nil || status != 200 {
		t.Fatalf("GET http://%s%s: %d %v\n%.2000s", siteHost, path, status, err, body)
	}
	return body
}

// eventually retries f (up to 10s) until it returns nil.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadPace spaces each load worker's requests.
const loadPace = 10 * time.Millisecond
