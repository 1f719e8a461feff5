package e2e

// HTTP to the site: every connection goes to 127.0.0.1:80 whatever the
// URL's host, so http://wp.test/… reaches the app's vhost with Host:
// wp.test, and WordPress's redirects (to http://wp.test/wp-admin/…) are
// followed to the same server.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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

// load hits the site from a few goroutines with a new connection per
// request (no keep-alive, so the client never retries a request behind
// the test's back) until stopped, counting answers that are not 2xx/3xx
// and requests that got no answer at all.
type load struct {
	total, failed, connErrors atomic.Int64
	mu                        sync.Mutex
	samples                   []string
	stop                      chan struct{}
	wg                        sync.WaitGroup
	started                   time.Time
	elapsed                   time.Duration
}

// maxLoadRequests bounds the load; pace spaces each worker's requests.
const (
	maxLoadRequests = 200000
	loadPace        = 10 * time.Millisecond
)

func startLoad(workers int, paths []string) *load {
	l := &load{stop: make(chan struct{}), started: time.Now()}
	client := &http.Client{
		Transport:     siteTransport(false),
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				if l.total.Add(1) > maxLoadRequests {
					return
				}
				l.one(client, paths[i%len(paths)])
				time.Sleep(loadPace)
			}
		}(w)
	}
	return l
}

func (l *load) one(client *http.Client, path string) {
	resp, err := client.Get("http://" + siteHost + path)
	if err != nil {
		l.connErrors.Add(1)
		l.sample(fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), path, err))
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		l.connErrors.Add(1)
		l.sample(fmt.Sprintf("%s %s: body: %v", time.Now().Format("15:04:05.000"), path, err))
	case resp.StatusCode >= 400:
		l.failed.Add(1)
		l.sample(fmt.Sprintf("%s %s: %s", time.Now().Format("15:04:05.000"), path, resp.Status))
	}
}

func (l *load) sample(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) < 20 {
		l.samples = append(l.samples, s)
	}
}

// finish stops the workers and waits for them.
func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
	l.elapsed = time.Since(l.started)
	if n := l.total.Load(); n > maxLoadRequests {
		l.total.Store(maxLoadRequests)
	}
}

func (l *load) String() string {
	return fmt.Sprintf("%d requests in %s (%.0f/s): %d failed (status >= 400), %d connection errors; first: %s",
		l.total.Load(), l.elapsed.Round(time.Millisecond), float64(l.total.Load())/l.elapsed.Seconds(),
		l.failed.Load(), l.connErrors.Load(), strings.Join(l.samples, "; "))
}
