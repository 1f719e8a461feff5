package lifecycle

// Custom cookbooks: what OpsWorks' update_custom_cookbooks did. A
// CookbookFetcher fetches the stack's cookbooks from a git repository, an
// S3 object, an HTTP(S) URL or a local archive into
// Dir/releases/<UTC time>-<revision>, checks the result, then switches
// Dir/current to it with one atomic rename. See docs/custom-cookbooks.md.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/command"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// S3GetAPI is the one S3 call Fetch makes; *s3.Client satisfies it.
type S3GetAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3GetAPI = (*s3.Client)(nil)

// FetchResult is what Fetch left live.
type FetchResult struct {
	// Dir is the release directory, a folder of cookbooks to pass as a
	// --cookbooks dir. It does not change while it is kept.
	Dir string
	// Revision is the git commit sha, or the archive's sha256.
	Revision string
	// Changed is true when Fetch made a new release and switched current.
	Changed bool
}

// CookbookFetcher fetches custom cookbooks into Dir:
//
//	Dir/releases/<UTC time>-<revision>/   one folder of cookbooks each
//	Dir/current -> releases/…             the live one
//
// Its zero value with Dir set is usable. A fetcher serialises its own
// Fetch calls; two fetchers must not share a Dir.
type CookbookFetcher struct {
	Dir  string
	HTTP *http.Client // nil: http.DefaultClient
	S3   S3GetAPI     // needed for s3 sources only
	// Runner runs git; nil: command.ExecRunner.
	Runner command.Runner
	Log    *slog.Logger // nil: discard
	// Keep is how many releases to keep, current included; 0: 3.
	Keep int
	// MaxSize limits an archive, downloaded and uncompressed; 0: 512 MiB.
	// MaxEntries limits its entries; 0: 100,000. A source's own limits
	// (agent.yaml's max_size, max_entries) win.
	MaxSize    int64
	MaxEntries int
	// Now is the clock release names are taken from; nil: time.Now.
	Now func() time.Time
	// Timeout bounds one Fetch (download, clone, extraction); 0: 15 minutes.
	Timeout time.Duration

	mu sync.Mutex
}

// Fetch fetches src into a new release and makes it current, unless the
// current release already has the same revision (same git commit, same
// archive sha256): then it returns that release with Changed false. A
// failed fetch leaves current as it was.
func (f *CookbookFetcher) Fetch(ctx context.Context, src CookbookSource) (FetchResult, error) {
	src, err := src.normalize("custom_cookbooks")
	if err != nil {
		return FetchResult{}, err
	}
	if f.Dir == "" {
		return FetchResult{}, errors.New("fetch custom cookbooks: no directory configured")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultCookbookFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := f.fetch(ctx, src)
	if err != nil {
		return FetchResult{}, fmt.Errorf("fetch custom cookbooks from %s %s: %w", src.Type, redactURL(src.URL), err)
	}
	return res, nil
}

func (f *CookbookFetcher) fetch(ctx context.Context, src CookbookSource) (FetchResult, error) {
	if err := f.prepare(); err != nil {
		return FetchResult{}, err
	}
	cur, _ := f.current()
	curRev := cur.Revision
	if !sameSource(cur.Dir, src) {
		curRev = "" // another URL or subdir: a new release even at the same revision
	}
	stage, err := os.MkdirTemp(f.Dir, ".fetch-")
	if err != nil {
		return FetchResult{}, err
	}
	defer os.RemoveAll(stage)
	if stage, err = filepath.EvalSymlinks(stage); err != nil {
		return FetchResult{}, err
	}
	var rev, tree string
	if src.Type == CookbookSourceGit {
		rev, tree, err = f.fetchGit(ctx, src, stage, curRev)
	} else {
		rev, tree, err = f.fetchArchive(ctx, src, stage, curRev)
	}
	if err != nil {
		return FetchResult{}, err
	}
	if rev == curRev {
		f.log().Info("custom cookbooks unchanged", "revision", rev, "dir", cur.Dir)
		return cur, nil
	}
	root, err := selectCookbookRoot(tree, src.Subdir)
	if err != nil {
		return FetchResult{}, err
	}
	if err := checkCookbookTree(root); err != nil {
		return FetchResult{}, err
	}
	return f.release(root, src, rev)
}

// releaseMarker is the file in each release recording its source; the
// cookbook loader skips dot files.
const releaseMarker = ".stackagent-source.json"

// releaseSource is the content of releaseMarker.
type releaseSource struct {
	Type      string    `json:"type"`
	URL       string    `json:"url"` // redacted
	Subdir    string    `json:"subdir,omitempty"`
	Revision  string    `json:"revision"`
	FetchedAt time.Time `json:"fetched_at"`
}

// sameSource reports whether the release in dir came from src's type, URL
// and subdir; a release without a readable marker counts as the same.
func sameSource(dir string, src CookbookSource) bool {
	if dir == "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, releaseMarker))
	if err != nil {
		return true
	}
	var rs releaseSource
	if json.Unmarshal(b, &rs) != nil {
		return true
	}
	return rs.Type == src.Type && rs.URL == redactURL(src.URL) && rs.Subdir == src.Subdir
}

// release moves root into releases/, switches current to it and prunes.
func (f *CookbookFetcher) release(root string, src CookbookSource, rev string) (FetchResult, error) {
	releases := filepath.Join(f.Dir, "releases")
	t := f.now().UTC()
	marker, err := json.Marshal(releaseSource{Type: src.Type, URL: redactURL(src.URL), Subdir: src.Subdir, Revision: rev, FetchedAt: t})
	if err != nil {
		return FetchResult{}, err
	}
	if err := os.WriteFile(filepath.Join(root, releaseMarker), append(marker, '\n'), 0o644); err != nil {
		return FetchResult{}, err
	}
	name := t.Format(releaseTimeFormat) + "-" + rev
	for {
		if _, err := os.Lstat(filepath.Join(releases, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		t = t.Add(time.Millisecond)
		name = t.Format(releaseTimeFormat) + "-" + rev
	}
	dir := filepath.Join(releases, name)
	if err := os.Rename(root, dir); err != nil {
		return FetchResult{}, err
	}
	if err := f.switchCurrent(name); err != nil {
		_ = os.RemoveAll(dir)
		return FetchResult{}, err
	}
	f.log().Info("custom cookbooks updated", "revision", rev, "dir", dir)
	f.prune(name)
	return FetchResult{Dir: dir, Revision: rev, Changed: true}, nil
}

// Current returns the live release with Changed false, or an error
// wrapping fs.ErrNotExist when nothing was fetched yet.
func (f *CookbookFetcher) Current() (FetchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current()
}

func (f *CookbookFetcher) current() (FetchResult, error) {
	link := filepath.Join(f.Dir, "current")
	target, err := os.Readlink(link)
	if err != nil {
		return FetchResult{}, fmt.Errorf("custom cookbooks: %w", err)
	}
	name := filepath.Base(target)
	dir := filepath.Join(f.Dir, "releases", name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return FetchResult{}, fmt.Errorf("custom cookbooks: %s points to %s: %w", link, target, fs.ErrNotExist)
	}
	_, rev, ok := strings.Cut(name, "-")
	if !ok || rev == "" {
		return FetchResult{}, fmt.Errorf("custom cookbooks: release %s has no revision: %w", name, fs.ErrNotExist)
	}
	return FetchResult{Dir: dir, Revision: rev}, nil
}

// prepare makes Dir/releases and removes what a crashed Fetch left.
func (f *CookbookFetcher) prepare() error {
	if err := os.MkdirAll(filepath.Join(f.Dir, "releases"), 0o755); err != nil {
		return err
	}
	for _, pat := range []string{".fetch-*", ".current-*"} {
		stale, _ := filepath.Glob(filepath.Join(f.Dir, pat))
		for _, p := range stale {
			_ = os.RemoveAll(p)
		}
	}
	return nil
}

// switchCurrent points Dir/current at releases/name with one rename of a
// new symlink, then syncs Dir.
func (f *CookbookFetcher) switchCurrent(name string) error {
	tmp := filepath.Join(f.Dir, fmt.Sprintf(".current-%d", time.Now().UnixNano()))
	if err := os.Symlink(filepath.Join("releases", name), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(f.Dir, "current")); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("switch current: %w", err)
	}
	if err := atomicfile.SyncDir(f.Dir); err != nil {
		return fmt.Errorf("switch current: %w", err)
	}
	return nil
}

// prune removes releases but the newest Keep and current.
func (f *CookbookFetcher) prune(current string) {
	releases := filepath.Join(f.Dir, "releases")
	ents, err := os.ReadDir(releases)
	if err != nil {
		f.log().Warn("custom cookbooks: list releases", "err", err)
		return
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	keep := f.Keep
	if keep <= 0 {
		keep = DefaultCookbookReleases
	}
	for i, n := range names {
		if i >= len(names)-keep || n == current {
			continue
		}
		if err := os.RemoveAll(filepath.Join(releases, n)); err != nil {
			f.log().Warn("custom cookbooks: remove old release", "release", n, "err", err)
		}
	}
}

// selectCookbookRoot picks the folder of cookbooks in tree: a single
// top-level folder that is not itself a cookbook stands for the tree
// (GitHub-style archives), then Subdir is taken inside it (or, failing
// that, inside tree).
func selectCookbookRoot(tree, subdir string) (string, error) {
	root := tree
	ents, err := os.ReadDir(tree)
	if err != nil {
		return "", err
	}
	var visible []fs.DirEntry
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") && e.Name() != "__MACOSX" {
			visible = append(visible, e)
		}
	}
	if len(visible) == 1 && visible[0].IsDir() && !isCookbook(filepath.Join(tree, visible[0].Name())) {
		root = filepath.Join(tree, visible[0].Name())
	}
	if subdir == "" {
		return root, nil
	}
	cand := filepath.Join(root, filepath.FromSlash(subdir))
	if !isRealDir(cand) && root != tree {
		cand = filepath.Join(tree, filepath.FromSlash(subdir))
	}
	if !isRealDir(cand) {
		return "", fmt.Errorf("subdir %q: not a folder in the fetched tree", subdir)
	}
	return cand, nil
}

// isRealDir reports whether p is a directory reached without symlinks.
func isRealDir(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	if err != nil || real != p {
		return false
	}
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

func isCookbook(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "recipes"))
	return err == nil && st.IsDir()
}

// checkCookbookTree refuses symlinks that are absolute, dangling or
// resolve outside root (chains included: archive.CheckLinks, the check the
// deploy resource makes too), and a root without any cookbook.
func checkCookbookTree(root string) error {
	if err := archive.CheckLinks(root, false); err != nil {
		return err
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		// As the loader: real folders, not dot folders, with recipes/.
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isCookbook(filepath.Join(root, e.Name())) {
			return nil
		}
	}
	return ErrNoCookbooks
}

func (f *CookbookFetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *CookbookFetcher) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.New(slog.DiscardHandler)
}

// maxEntries is src's limit, else the fetcher's (0: the default).
func (f *CookbookFetcher) maxEntries(src CookbookSource) int {
	if src.MaxEntries > 0 {
		return src.MaxEntries
	}
	return f.MaxEntries
}

// maxSize is src's limit, else the fetcher's, else the default.
func (f *CookbookFetcher) maxSize(src CookbookSource) int64 {
	if src.MaxSize > 0 {
		return src.MaxSize
	}
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return MaxCookbookArchiveSize
}
