package lifecycle

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/archive"
)

// Plain http:// sources need a checksum: refused at validation (agent.yaml,
// stack JSON) and after a redirect from https to http.
func TestCookbookPlainHTTPNeedsChecksum(t *testing.T) {
	t.Parallel()
	_, err := CookbookSourceFromAttributes(cc(map[string]any{"type": "archive", "url": "http://h/cookbooks.tgz"}))
	var se *CookbookSourceError
	if !errors.As(err, &se) || se.Field != "stackagent.custom_cookbooks.checksum" || !strings.Contains(err.Error(), "add stackagent.custom_cookbooks.checksum") {
		t.Fatalf("plain http from attributes: %v, want an error naming the checksum field", err)
	}
	if err := (CookbookSource{Type: "http", URL: "http://h/c.tgz"}).Validate(); err == nil || !strings.Contains(err.Error(), "custom_cookbooks.checksum: a plain http:// source needs a checksum") {
		t.Fatalf("plain http in agent.yaml: %v", err)
	}
	ok := CookbookSource{Type: "http", URL: "http://h/c.tgz", Checksum: strings.Repeat("a", 64)}
	if err := ok.Validate(); err != nil {
		t.Fatalf("plain http with a checksum: %v", err)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(tarGz(t, entry{Name: "base/recipes/default.lua", Body: recipeV1}))
	}))
	t.Cleanup(plain.Close)
	redirect := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/c.tgz", http.StatusFound))
	t.Cleanup(redirect.Close)
	f := newFetcher(t)
	f.HTTP = redirect.Client()
	err = fetchErr(t, f, CookbookSource{Type: "http", URL: redirect.URL + "/c.tgz"})
	if !errors.Is(err, archive.ErrChecksumRequired) || !strings.Contains(err.Error(), "redirected to plain http") {
		t.Fatalf("https redirected to http: %v", err)
	}
	assertNoLeftovers(t, f)
}

// Limits from agent.yaml (a source's max_size, max_entries) stop an
// archive while it is extracted, with an error saying what to raise.
func TestCookbookArchiveLimits(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "cookbooks.tgz")
	if err := os.WriteFile(p, tarGz(t, entry{Name: "base/recipes/default.lua", Body: recipeV1},
		entry{Name: "base/files/a", Body: "1"}, entry{Name: "base/files/b", Body: "2"}), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t)
	err := fetchErr(t, f, CookbookSource{Type: "archive", URL: p, MaxEntries: 2})
	if !errors.Is(err, ErrArchiveTooLarge) || !strings.Contains(err.Error(), "more than 2 entries (raise custom_cookbooks.max_size or max_entries in agent.yaml)") {
		t.Fatalf("entries over the limit: %v", err)
	}
	f.MaxEntries = 2 // the daemon's, from agent.yaml, for a source from attributes
	if err := fetchErr(t, f, CookbookSource{Type: "archive", URL: p}); !errors.Is(err, ErrArchiveTooLarge) {
		t.Fatalf("fetcher limit: %v", err)
	}
	assertNoLeftovers(t, f)
	if res := fetch(t, f, CookbookSource{Type: "archive", URL: p, MaxEntries: 10}); !res.Changed {
		t.Fatalf("raised limit: %+v", res)
	}
}
