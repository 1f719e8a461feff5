package resources

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stackagent/stackagent/recipes/recipestest"
)

// TestHTTPRequest posts to a 127.0.0.1 server with a header and a body,
// gets, and fails on a status outside 2xx.
func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		seen = append(seen, req.Method+" "+req.URL.Path+" "+req.Header.Get("X-Token")+" "+string(b))
		mu.Unlock()
		if req.URL.Path == "/missing" {
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(srv.Close)
	o := recipestest.Opts{Root: t.TempDir()}
	sysConverge(t, o, `
http_request "notify" { url = "`+srv.URL+`/hook", action = "post", message = '{"deployed":true}', headers = { ["X-Token"] = "t1" } }
http_request "`+srv.URL+`/ping"
`, 2)
	mu.Lock()
	got := strings.Join(seen, "; ")
	mu.Unlock()
	if got != `POST /hook t1 {"deployed":true}; GET /ping  ` {
		t.Fatalf("server saw %q", got)
	}
	res := sysConvergeErr(t, o, `http_request "`+srv.URL+`/missing"`)
	if !strings.Contains(res.Err.Error(), "404 Not Found") {
		t.Fatalf("404: %v", res.Err)
	}
	res = sysConvergeErr(t, o, `http_request "x" { url = "file:///etc/passwd" }`)
	if !strings.Contains(res.Err.Error(), "want an http or https URL") {
		t.Fatalf("file URL: %v", res.Err)
	}
}
