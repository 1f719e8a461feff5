package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOrigin is an HTTP server on 127.0.0.1 serving files by path, with an
// ETag and a Last-Modified each, answering conditional GETs with 304, and
// counting the requests.
type fakeOrigin struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]*fakeFile
	hits  map[string]int
	last  map[string]http.Header
}

type fakeFile struct {
	body, etag string
	modified   time.Time
}

func newOrigin(t *testing.T) *fakeOrigin {
	o := &fakeOrigin{files: map[string]*fakeFile{}, hits: map[string]int{}, last: map[string]http.Header{}}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

func (o *fakeOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.Path]++
	o.last[r.URL.Path] = r.Header.Clone()
	f, ok := o.files[r.URL.Path]
	o.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if f.etag != "" {
		w.Header().Set("ETag", f.etag)
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if !f.modified.IsZero() {
		w.Header().Set("Last-Modified", f.modified.UTC().Format(http.TimeFormat))
		if since, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !f.modified.After(since) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	fmt.Fprint(w, f.body)
}

func (o *fakeOrigin) put(path string, f fakeFile) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[path] = &f
}

func (o *fakeOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func (o *fakeOrigin) header(path, name string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last[path].Get(name)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestRemoteFileConditionalGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		file   fakeFile
		header string // the validator the second run must send
		props  string
	}{
		{"etag", fakeFile{body: "v1\n", etag: `"abc"`}, "If-None-Match", ""},
		{"last modified", fakeFile{body: "v1\n", modified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, "If-Modified-Since", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			o.put("/pkg.tgz", tt.file)
			root := newRoot(t, "opt")
			recipe := fmt.Sprintf(`remote_file "/opt/pkg.tgz" { source = "%s/pkg.tgz", mode = "0600" }`, o.URL)
			res := mustRun(t, root, recipe, 1)
			if !strings.Contains(res.Output, "- create new file /opt/pkg.tgz") || o.count("/pkg.tgz") != 1 {
				t.Fatalf("%d requests:\n%s", o.count("/pkg.tgz"), res.Output)
			}
			path := filepath.Join(root, "opt/pkg.tgz")
			if got := readFile(t, path); got != "v1\n" || permOf(t, path) != "0600" {
				t.Fatalf("content %q mode %s", got, permOf(t, path))
			}
			rec := filepath.Join(root, remoteCacheDir, sha("/opt/pkg.tgz")+".json")
			if _, err := os.Stat(rec); err != nil {
				t.Fatalf("no cache record: %v", err)
			}

			mustRun(t, root, recipe, 0)
			if n := o.count("/pkg.tgz"); n != 2 || o.header("/pkg.tgz", tt.header) == "" {
				t.Fatalf("second run: %d requests, %s %q", n, tt.header, o.header("/pkg.tgz", tt.header))
			}

			next := tt.file
			next.body = "v2\n"
			next.etag, next.modified = `"def"`, time.Time{}
			o.put("/pkg.tgz", next)
			res = mustRun(t, root, recipe, 1)
			if !strings.Contains(res.Output, "-v1\n    +v2") || readFile(t, path) != "v2\n" {
				t.Fatalf("third run:\n%s", res.Output)
			}
			assertNoTemps(t, filepath.Join(root, "opt"))
		})
	}
}

func TestRemoteFileNoConditionalWhenFileChanged(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	o.put("/a", fakeFile{body: "origin\n", etag: `"e1"`})
	root := newRoot(t, "opt")
	recipe := fmt.Sprintf(`remote_file "/opt/a" { source = "%s/a" }`, o.URL)
	mustRun(t, root, recipe, 1)
	writeFile(t, filepath.Join(root, "opt/a"), "edited by hand\n", 0o644)
	res := mustRun(t, root, recipe, 1)
	if o.header("/a", "If-None-Match") != "" || readFile(t, filepath.Join(root, "opt/a")) != "origin\n" {
		t.Fatalf("sent If-None-Match %q for a changed file:\n%s", o.header("/a", "If-None-Match"), res.Output)
	}
	noEtag := fmt.Sprintf(`remote_file "/opt/a" { source = "%s/a", use_etag = false }`, o.URL)
	mustRun(t, root, noEtag, 0)
	if o.header("/a", "If-None-Match") != "" || o.count("/a") != 3 {
		t.Fatalf("use_etag = false: %d requests, If-None-Match %q", o.count("/a"), o.header("/a", "If-None-Match"))
	}
}

func TestRemoteFileChecksum(t *testing.T) {
	t.Parallel()
	body := "payload\n"
	tests := []struct {
		name      string
		existing  string // "-" for none
		checksum  string
		wantErr   string
		requests  int
		updated   int
		wantFinal string // "-" for no file
	}{
		{"match, no request", body, sha(body), "", 0, 0, body},
		{"prefix match, no request", body, strings.ToUpper(sha(body)[:12]), "", 0, 0, body},
		{"download verified", "-", sha(body), "", 1, 1, body},
		{"mismatch leaves no file", "-", sha("other"), "checksum mismatch", 1, 0, "-"},
		{"mismatch keeps old file", "old\n", sha("other"), "checksum mismatch", 1, 0, "old\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			o.put("/f", fakeFile{body: body})
			root := newRoot(t, "opt")
			path := filepath.Join(root, "opt/f")
			if tt.existing != "-" {
				writeFile(t, path, tt.existing, 0o644)
			}
			res := run(t, root, fmt.Sprintf(`remote_file "/opt/f" { source = "%s/f", checksum = "%s" }`, o.URL, tt.checksum), false)
			if tt.wantErr == "" && res.Err != nil || tt.wantErr != "" && (res.Err == nil || !strings.Contains(res.Output, tt.wantErr)) {
				t.Fatalf("err %v, want %q:\n%s", res.Err, tt.wantErr, res.Output)
			}
			if o.count("/f") != tt.requests || res.Report.UpdatedResources != tt.updated {
				t.Fatalf("%d requests, %d updated; want %d, %d\n%s", o.count("/f"), res.Report.UpdatedResources, tt.requests, tt.updated, res.Output)
			}
			if tt.wantFinal == "-" {
				wantAbsent("opt/f")(t, root)
			} else if got := readFile(t, path); got != tt.wantFinal {
				t.Fatalf("content %q, want %q", got, tt.wantFinal)
			}
			assertNoTemps(t, filepath.Join(root, "opt"))
		})
	}
}

func TestRemoteFileMirrorsAndHeaders(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	o.put("/mirror", fakeFile{body: "from mirror\n"})
	root := newRoot(t, "opt")
	recipe := fmt.Sprintf(`remote_file "/opt/m" { source = {"%[1]s/gone", "%[1]s/mirror"}, headers = { Authorization = "Bearer t0ken" } }`, o.URL)
	mustRun(t, root, recipe, 1)
	if got := readFile(t, filepath.Join(root, "opt/m")); got != "from mirror\n" {
		t.Fatalf("content %q", got)
	}
	if o.count("/gone") != 1 || o.header("/mirror", "Authorization") != "Bearer t0ken" {
		t.Fatalf("gone hit %d times, Authorization %q", o.count("/gone"), o.header("/mirror", "Authorization"))
	}
	res := assertFails(t, root, fmt.Sprintf(`remote_file "/opt/n" { source = {"%[1]s/x", "%[1]s/y"} }`, o.URL), "/x: 404 Not Found")
	if !strings.Contains(res.Output, "/y: 404 Not Found") {
		t.Fatalf("output:\n%s", res.Output)
	}
	wantAbsent("opt/n")(t, root)
	assertNoTemps(t, filepath.Join(root, "opt"))
}

func TestRemoteFileActions(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	o.put("/f", fakeFile{body: "remote-secret-body\n"})
	root := newRoot(t, "opt")
	writeFile(t, filepath.Join(root, "opt/keep"), "local\n", 0o644)
	writeFile(t, filepath.Join(root, "opt/old"), "old\n", 0o644)
	mustRun(t, root, fmt.Sprintf(`remote_file "/opt/keep" { source = "%s/f", action = "create_if_missing" }`, o.URL), 0)
	if o.count("/f") != 0 || readFile(t, filepath.Join(root, "opt/keep")) != "local\n" {
		t.Fatalf("create_if_missing fetched %d times", o.count("/f"))
	}
	res := mustRun(t, root, fmt.Sprintf(`remote_file "/opt/old" { source = "%s/f", action = "delete" }`, o.URL), 1)
	if !strings.Contains(res.Output, "- delete file /opt/old") || o.count("/f") != 0 {
		t.Fatalf("delete:\n%s", res.Output)
	}
	wantAbsent("opt/old")(t, root)
	res = mustRun(t, root, fmt.Sprintf(`remote_file "/opt/s" { source = "%s/f", sensitive = true }`, o.URL), 1)
	assertHidden(t, res, "remote-secret-body")
}

func TestRemoteFileWhyRun(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	o.put("/f", fakeFile{body: "new\n", etag: `"1"`})
	root := newRoot(t, "opt")
	writeFile(t, filepath.Join(root, "opt/old"), "old\n", 0o644)
	base := fmt.Sprintf("whyrun-%d", time.Now().UnixNano())
	assertWhyRun(t, root, fmt.Sprintf(`
remote_file "/opt/%[2]s" { source = "%[1]s/f" }
remote_file "/opt/old" { source = "%[1]s/f", mode = "0600" }
`, o.URL, base), []string{
		"- Would create new file /opt/" + base,
		"- Would update content in file /opt/old from",
		"-old\n    +new",
		"- Would change mode from '0644' to '0600'",
	})
	if _, err := os.Stat(filepath.Join(root, "var")); !os.IsNotExist(err) {
		t.Fatalf("why-run wrote the cache: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "."+base+".stackagent-*"))
	if len(left) > 0 {
		t.Fatalf("why-run left downloads in the temp dir: %v", left)
	}
}
