package resources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackagent/stackagent/recipes"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/checksum"
)

// remoteCacheDir holds one record per remote_file (under the run's root):
// the validators of the last download, for conditional GETs.
const remoteCacheDir = "/var/cache/stackagent/remote_file"

// remoteFileKind is Chef's remote_file resource: a file downloaded from
// the first source (URL or mirror) that answers. It is not downloaded again
// when a declared checksum matches the file, nor when the server answers a
// conditional GET (ETag, Last-Modified of the last download) with 304.
func remoteFileKind() *recipes.Kind {
	k := contentKind("remote_file", "manage a file downloaded over HTTP", download,
		recipes.Prop{Name: "source", Type: recipes.StringList, Required: true},
		recipes.Prop{Name: "checksum", Type: recipes.String},
		recipes.Prop{Name: "headers", Type: recipes.Map},
		recipes.Prop{Name: "use_etag", Type: recipes.Bool, Default: true},
		recipes.Prop{Name: "use_last_modified", Type: recipes.Bool, Default: true},
	)
	k.Actions = []string{"create", "create_if_missing", "delete"}
	return k
}

// remoteRecord is the cache record of one remote_file.
type remoteRecord struct {
	Path         string `json:"path"`
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256"`
}

func recordFile(rc *recipes.RunContext, display string) string {
	h := sha256.Sum256([]byte(display))
	return rc.Path(remoteCacheDir + "/" + hex.EncodeToString(h[:]) + ".json")
}

// download fetches the file, or returns nil when the current file is
// known to be right. The download is staged next to the file (in why-run,
// in the run's staging directory, since nothing under the root may change).
func download(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, cur fileState) (*content, error) {
	display := r.Str("path")
	want := strings.ToLower(r.Str("checksum"))
	if want != "" && cur.exists && strings.HasPrefix(cur.sum, want) {
		return nil, nil
	}
	var last *remoteRecord
	if cur.exists && want == "" {
		last = readRecord(recordFile(rc, display), cur.sum)
	}
	dir := filepath.Dir(cur.path)
	if rc.WhyRun {
		var err error
		if dir, err = rc.StagingDir(); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, url := range r.Strings("source") {
		var cond *remoteRecord
		if last != nil && last.URL == url {
			cond = last
		}
		c, rec, err := fetch(ctx, rc.HTTP, r, url, cond, dir, filepath.Base(cur.path))
		if err == nil && c != nil && want != "" && !strings.HasPrefix(c.sum, want) {
			c.discard()
			err = fmt.Errorf("%w: %s has sha256 %s, want %s", checksum.ErrMismatch, url, c.sum, want)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c != nil {
			rec.Path, rec.SHA256 = display, c.sum
			file := recordFile(rc, display)
			c.commit = func() error { return writeRecord(file, rec) }
		}
		return c, nil
	}
	return nil, fmt.Errorf("download %s: %w", display, errors.Join(errs...))
}

// fetch GETs url, conditionally when cond is set. It returns nil content
// for 304 Not Modified.
func fetch(ctx context.Context, client *http.Client, r *recipes.Resource, url string, cond *remoteRecord, dir, base string) (*content, *remoteRecord, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range r.Map("headers") {
		req.Header.Set(k, fmt.Sprint(v))
	}
	if cond != nil && cond.ETag != "" && r.Bool("use_etag") {
		req.Header.Set("If-None-Match", cond.ETag)
	}
	if cond != nil && cond.LastModified != "" && r.Bool("use_last_modified") {
		req.Header.Set("If-Modified-Since", cond.LastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cond != nil:
		return nil, nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	h := sha256.New()
	staged, err := stage(filepath.Join(dir, base), io.TeeReader(resp.Body, h))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	rec := &remoteRecord{URL: url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	return &content{staged: staged, sum: hex.EncodeToString(h.Sum(nil))}, rec, nil
}

// readRecord returns the cache record when it describes the file as it is
// (same sha256), else nil.
func readRecord(file, sum string) *remoteRecord {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var rec remoteRecord
	if json.Unmarshal(b, &rec) != nil || rec.SHA256 != sum {
		return nil
	}
	return &rec
}

func writeRecord(file string, rec *remoteRecord) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(file, b, 0o644)
}
