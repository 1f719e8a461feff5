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
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	archive "github.com/stackagent/stackagent/internal/fetch"
	"github.com/stackagent/stackagent/recipes"
)

// DefaultCustomCookbooksDir is where the agent keeps fetched custom
// cookbooks unless configured otherwise.
const DefaultCustomCookbooksDir = "/var/lib/stackagent/custom-cookbooks"

// Cookbook source types.
const (
	CookbookSourceGit     = "git"
	CookbookSourceS3      = "s3"
	CookbookSourceHTTP    = "http"
	CookbookSourceArchive = "archive" // a local .tar.gz/.tgz/.zip file
)

const (
	// DefaultCookbookReleases is how many releases Fetch keeps, current
	// included, when CookbookFetcher.Keep is 0.
	DefaultCookbookReleases = 3
	// MaxCookbookArchiveSize is the default limit on an archive, both as
	// downloaded and uncompressed.
	MaxCookbookArchiveSize int64 = 512 << 20
	// DefaultCookbookFetchTimeout bounds a Fetch when
	// CookbookFetcher.Timeout is 0.
	DefaultCookbookFetchTimeout = 15 * time.Minute
	releaseTimeFormat           = "20060102T150405.000Z"
)

var (
	// ErrChecksumMismatch: the archive's sha256 is not the configured checksum.
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrNoCookbooks: the fetched tree holds no folder with recipes/.
	ErrNoCookbooks = errors.New("no cookbook found (want folders of cookbooks, each with recipes/)")
	// ErrArchiveTooLarge: the archive or its content is over the limit.
	ErrArchiveTooLarge = archive.ErrArchiveTooLarge
	// ErrUnsafeArchive: an entry or symlink would land or point outside
	// the release.
	ErrUnsafeArchive = archive.ErrUnsafeArchive
	// ErrUnknownArchive: the file is neither gzip'd tar, tar, bzip2'd tar nor zip.
	ErrUnknownArchive = archive.ErrUnknownArchive
	// ErrRevisionNotFound: the git repository has no such branch or tag.
	ErrRevisionNotFound = errors.New("revision not found")
)

// CookbookSource says where the stack's custom cookbooks come from: the
// custom_cookbooks block of agent.yaml, or the node attribute
// stackagent.custom_cookbooks (see CookbookSourceFromAttributes).
type CookbookSource struct {
	// Type is git, s3, http or archive (a local file). OpsWorks' "archive"
	// with an http(s) or s3 URL means http or s3.
	Type string `json:"type" yaml:"type"`
	// URL is the repository (any URL git takes), s3://bucket/key (or an
	// https S3 object URL), an http(s) URL, or a local path / file:// URL.
	URL string `json:"url" yaml:"url"`
	// Revision is a branch, a tag or a full commit sha (git only; empty:
	// the remote's default branch).
	Revision string `json:"revision,omitempty" yaml:"revision,omitempty"`
	// SSHKey is the path of a private key for git over ssh, or the key
	// itself (PEM/OpenSSH text, as OpsWorks took it).
	SSHKey string `json:"ssh_key,omitempty" yaml:"ssh_key,omitempty"`
	// Checksum is the archive's sha256 in hex, optionally "sha256:"-prefixed
	// (not for git). A mismatch fails the fetch.
	Checksum string `json:"checksum,omitempty" yaml:"checksum,omitempty"`
	// Subdir is the folder of cookbooks inside the repository or archive.
	Subdir string `json:"subdir,omitempty" yaml:"subdir,omitempty"`
}

// CookbookSourceError names the field of a CookbookSource that is wrong.
type CookbookSourceError struct {
	Field string // e.g. custom_cookbooks.url
	Msg   string
}

func (e *CookbookSourceError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks s and returns a *CookbookSourceError naming the field
// (custom_cookbooks.<key>) at fault.
func (s CookbookSource) Validate() error {
	_, err := s.normalize("custom_cookbooks")
	return err
}

var (
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	gitSHA    = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// normalize returns s with Type, Checksum and Subdir in canonical form,
// or the first field at fault, named prefix.<key>.
func (s CookbookSource) normalize(prefix string) (CookbookSource, error) {
	bad := func(field, format string, a ...any) (CookbookSource, error) {
		return CookbookSource{}, &CookbookSourceError{Field: prefix + "." + field, Msg: fmt.Sprintf(format, a...)}
	}
	s.Type = strings.ToLower(strings.TrimSpace(s.Type))
	s.URL = strings.TrimSpace(s.URL)
	s.Revision = strings.TrimSpace(s.Revision)
	s.Checksum = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s.Checksum), "sha256:"))
	if s.URL == "" {
		return bad("url", "missing")
	}
	if strings.HasPrefix(s.URL, "-") {
		return bad("url", "must not start with '-'")
	}
	scheme := ""
	if u, err := url.Parse(s.URL); err == nil {
		scheme = strings.ToLower(u.Scheme)
	}
	switch {
	case s.Type == "https":
		s.Type = CookbookSourceHTTP
	case s.Type == CookbookSourceArchive && (scheme == "http" || scheme == "https"):
		s.Type = CookbookSourceHTTP // OpsWorks' "archive" was an HTTP archive
	case s.Type == CookbookSourceArchive && scheme == "s3":
		s.Type = CookbookSourceS3
	}
	switch s.Type {
	case "":
		return bad("type", "missing (want git|s3|http|archive)")
	case CookbookSourceGit:
	case CookbookSourceS3:
		if _, _, err := parseS3URL(s.URL); err != nil {
			return bad("url", "%v", err)
		}
	case CookbookSourceHTTP:
		if scheme != "http" && scheme != "https" {
			return bad("url", "want an http(s) URL, got %q", redactURL(s.URL))
		}
	case CookbookSourceArchive:
		if p := localPath(s.URL); !filepath.IsAbs(p) {
			return bad("url", "want an absolute path or file:// URL, got %q", s.URL)
		}
	default:
		return bad("type", "unknown type %q (want git|s3|http|archive)", s.Type)
	}
	if s.Type == CookbookSourceGit {
		if s.Checksum != "" {
			return bad("checksum", "only for s3, http and archive sources (git has its commit sha)")
		}
		if strings.HasPrefix(s.Revision, "-") {
			return bad("revision", "must not start with '-'")
		}
	} else {
		if s.Revision != "" {
			return bad("revision", "only for git sources")
		}
		if s.SSHKey != "" {
			return bad("ssh_key", "only for git sources")
		}
		if s.Checksum != "" && !hexSHA256.MatchString(s.Checksum) {
			return bad("checksum", "want a sha256 in hex (64 characters), got %q", s.Checksum)
		}
	}
	if s.Subdir != "" {
		clean := path.Clean(strings.TrimSpace(s.Subdir))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return bad("subdir", "want a relative path inside the repository or archive, got %q", s.Subdir)
		}
		if clean == "." {
			clean = ""
		}
		s.Subdir = clean
	}
	return s, nil
}

// cookbookSourceKeys maps the keys accepted in node attributes, lower
// case and without underscores, to the field they set. OpsWorks'
// CustomCookbooksSource keys (Type, Url, Revision, SshKey) fold into them.
var cookbookSourceKeys = map[string]func(*CookbookSource) *string{
	"type":     func(s *CookbookSource) *string { return &s.Type },
	"url":      func(s *CookbookSource) *string { return &s.URL },
	"revision": func(s *CookbookSource) *string { return &s.Revision },
	"sshkey":   func(s *CookbookSource) *string { return &s.SSHKey },
	"checksum": func(s *CookbookSource) *string { return &s.Checksum },
	"subdir":   func(s *CookbookSource) *string { return &s.Subdir },
}

// CookbookSourceFromAttributes reads a custom cookbooks source from node
// attributes (the stack JSON): attrs is either the value of
// stackagent.custom_cookbooks itself or the whole attribute tree (a map
// with a "stackagent" key, or with none of the source's keys). It returns
// nil, nil when the source is absent, null or an empty object. Keys are matched without
// regard to case or underscores, so both {"type","url","ssh_key"} and
// OpsWorks' {"Type","Url","SshKey"} work. Errors are *CookbookSourceError
// naming stackagent.custom_cookbooks.<key>.
func CookbookSourceFromAttributes(attrs map[string]any) (*CookbookSource, error) {
	const prefix = "stackagent.custom_cookbooks"
	m := attrs
	if _, ok := attrs["stackagent"]; !ok && !hasSourceKey(attrs) {
		return nil, nil // an attribute tree without stackagent
	}
	if raw, ok := attrs["stackagent"]; ok {
		if raw == nil {
			return nil, nil
		}
		sa, ok := raw.(map[string]any)
		if !ok {
			return nil, &CookbookSourceError{Field: "stackagent", Msg: fmt.Sprintf("want an object, got %T", raw)}
		}
		raw, ok = sa["custom_cookbooks"]
		if !ok || raw == nil {
			return nil, nil
		}
		if m, ok = raw.(map[string]any); !ok {
			return nil, &CookbookSourceError{Field: prefix, Msg: fmt.Sprintf("want an object, got %T", raw)}
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s CookbookSource
	seen := map[string]string{}
	for _, k := range keys {
		norm := strings.ToLower(strings.ReplaceAll(k, "_", ""))
		field, ok := cookbookSourceKeys[norm]
		if !ok {
			return nil, &CookbookSourceError{Field: prefix + "." + k, Msg: "unknown key (want type, url, revision, ssh_key, checksum, subdir)"}
		}
		if prev, dup := seen[norm]; dup {
			return nil, &CookbookSourceError{Field: prefix + "." + k, Msg: fmt.Sprintf("given twice (also as %q)", prev)}
		}
		seen[norm] = k
		switch v := m[k].(type) {
		case nil:
		case string:
			*field(&s) = v
		default:
			return nil, &CookbookSourceError{Field: prefix + "." + k, Msg: fmt.Sprintf("want a string, got %T", v)}
		}
	}
	n, err := s.normalize(prefix)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func hasSourceKey(m map[string]any) bool {
	for k := range m {
		if _, ok := cookbookSourceKeys[strings.ToLower(strings.ReplaceAll(k, "_", ""))]; ok {
			return true
		}
	}
	return false
}

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
	// Runner runs git; nil: recipes.ExecRunner.
	Runner recipes.Runner
	Log    *slog.Logger // nil: discard
	// Keep is how many releases to keep, current included; 0: 3.
	Keep int
	// MaxSize limits an archive, downloaded and uncompressed; 0: 512 MiB.
	MaxSize int64
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
	if d, err := os.Open(f.Dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
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

// checkCookbookTree refuses symlinks that are absolute or resolve outside
// root (chains included), and a root without any cookbook.
func checkCookbookTree(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if filepath.IsAbs(target) {
			return fmt.Errorf("symlink %s -> %s: %w (absolute)", rel, target, ErrUnsafeArchive)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("symlink %s -> %s: %w (dangling)", rel, target, ErrUnsafeArchive)
		}
		if !within(root, real) {
			return fmt.Errorf("symlink %s -> %s: %w (outside the cookbooks)", rel, target, ErrUnsafeArchive)
		}
		return nil
	})
	if err != nil {
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

// within reports whether p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
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

func (f *CookbookFetcher) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return MaxCookbookArchiveSize
}

// redactURL hides a URL's password and query (presigned URLs, tokens).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// localPath turns a file:// URL into a path; anything else is a path.
func localPath(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme == "file" {
		return u.Path
	}
	return s
}

// parseS3URL takes s3://bucket/key, or an https S3 object URL in path
// style (s3[.-]region.amazonaws.com/bucket/key) or virtual-hosted style
// (bucket.s3[.-]region.amazonaws.com/key).
func parseS3URL(s string) (bucket, key string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("want s3://bucket/key: %w", err)
	}
	p := strings.TrimPrefix(u.Path, "/")
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "s3":
		bucket, key = u.Host, p
	case u.Scheme == "https" && (strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")):
		if strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-") {
			bucket, key, _ = strings.Cut(p, "/")
		} else if i := strings.Index(host, ".s3"); i > 0 {
			bucket, key = host[:i], p
		}
	}
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return "", "", fmt.Errorf("want s3://bucket/key, got %q", redactURL(s))
	}
	return bucket, key, nil
}

// openArchive opens the archive of an s3, http or archive source.
func (f *CookbookFetcher) openArchive(ctx context.Context, src CookbookSource) (io.ReadCloser, error) {
	switch src.Type {
	case CookbookSourceS3:
		if f.S3 == nil {
			return nil, errors.New("no S3 client configured")
		}
		bucket, key, err := parseS3URL(src.URL)
		if err != nil {
			return nil, err
		}
		out, err := f.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
		}
		return out.Body, nil
	case CookbookSourceHTTP:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
		if err != nil {
			return nil, err
		}
		c := f.HTTP
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", redactURL(src.URL), resp.Status)
		}
		return resp.Body, nil
	default:
		return os.Open(localPath(src.URL))
	}
}

// fetchGit resolves src.Revision on the remote and, unless it is curRev,
// checks it out shallowly into stage/tree (without .git). It returns the
// commit sha.
func (f *CookbookFetcher) fetchGit(ctx context.Context, src CookbookSource, stage, curRev string) (rev, tree string, err error) {
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/true"}
	if src.SSHKey != "" {
		key, err := sshKeyFile(src.SSHKey, stage)
		if err != nil {
			return "", "", err
		}
		env = append(env, "GIT_SSH_COMMAND=ssh -i "+shellQuote(key)+" -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new")
	}
	tree = filepath.Join(stage, "tree")
	if gitSHA.MatchString(strings.ToLower(src.Revision)) {
		rev = strings.ToLower(src.Revision)
		if rev == curRev {
			return rev, "", nil
		}
		if err := f.gitCheckoutSHA(ctx, env, src.URL, rev, tree); err != nil {
			return "", "", err
		}
	} else {
		if rev, err = f.gitResolve(ctx, env, src.URL, src.Revision); err != nil {
			return "", "", err
		}
		if rev == curRev {
			return rev, "", nil
		}
		args := []string{"-c", "advice.detachedHead=false", "clone", "--quiet", "--depth", "1",
			"--recurse-submodules", "--shallow-submodules"}
		if src.Revision != "" {
			args = append(args, "--branch", src.Revision)
		}
		if _, err := f.git(ctx, env, "", append(args, "--", src.URL, tree)...); err != nil {
			return "", "", err
		}
	}
	head, err := f.git(ctx, env, tree, "rev-parse", "HEAD")
	if err != nil {
		return "", "", err
	}
	if err := os.RemoveAll(filepath.Join(tree, ".git")); err != nil {
		return "", "", err
	}
	return head, tree, nil
}

// gitResolve returns the commit a branch or tag (peeled), or the remote's
// HEAD when rev is empty, names on the remote.
func (f *CookbookFetcher) gitResolve(ctx context.Context, env []string, repo, rev string) (string, error) {
	out, err := f.git(ctx, env, "", "ls-remote", "--", repo)
	if err != nil {
		return "", err
	}
	refs := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if sha, ref, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			refs[ref] = sha
		}
	}
	want := []string{"refs/heads/" + rev, "refs/tags/" + rev + "^{}", "refs/tags/" + rev}
	if rev == "" {
		want = []string{"HEAD"}
	}
	for _, ref := range want {
		if sha, ok := refs[ref]; ok {
			return sha, nil
		}
	}
	if rev == "" {
		return "", fmt.Errorf("remote has no HEAD: %w", ErrRevisionNotFound)
	}
	return "", fmt.Errorf("%q is no branch or tag of the repository: %w", rev, ErrRevisionNotFound)
}

// gitCheckoutSHA fetches one commit (shallow if the server allows it,
// else the branches and tags) and checks it out.
func (f *CookbookFetcher) gitCheckoutSHA(ctx context.Context, env []string, repo, sha, tree string) error {
	steps := [][]string{{"init", "--quiet", tree}, {"-C", tree, "remote", "add", "origin", repo}}
	for _, args := range steps {
		if _, err := f.git(ctx, env, "", args...); err != nil {
			return err
		}
	}
	if _, err := f.git(ctx, env, tree, "fetch", "--quiet", "--depth", "1", "origin", sha); err != nil {
		f.log().Info("custom cookbooks: shallow fetch of a commit refused, fetching branches and tags", "err", err)
		if _, err := f.git(ctx, env, tree, "fetch", "--quiet", "--tags", "origin"); err != nil {
			return err
		}
	}
	if _, err := f.git(ctx, env, tree, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha); err != nil {
		return fmt.Errorf("commit %s: %w", sha, err)
	}
	if _, err := os.Stat(filepath.Join(tree, ".gitmodules")); err == nil {
		_, err := f.git(ctx, env, tree, "submodule", "update", "--quiet", "--init", "--recursive", "--depth", "1")
		return err
	}
	return nil
}

// git runs git and returns its trimmed stdout; a non-zero exit is an
// error carrying git's last line of stderr.
func (f *CookbookFetcher) git(ctx context.Context, env []string, dir string, args ...string) (string, error) {
	run := f.Runner
	if run == nil {
		run = recipes.ExecRunner{}
	}
	res, err := run.Run(ctx, recipes.Command{Path: "git", Args: args, Dir: dir, Env: env})
	op := "git " + args[0]
	if args[0] == "-c" || args[0] == "-C" {
		op = "git " + args[2]
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return "", fmt.Errorf("%s: exit status %d: %s", op, res.ExitCode, msg)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// sshKeyFile returns the path of the key: key itself, or, when key is the
// key's text, a 0600 file written into stage (removed with it).
func sshKeyFile(key, stage string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(key), "-----BEGIN") {
		p := filepath.Join(stage, "ssh_key")
		text := strings.TrimSpace(key) + "\n"
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return "", fmt.Errorf("ssh_key: %w", err)
		}
		return p, nil
	}
	if _, err := os.Stat(key); err != nil {
		return "", fmt.Errorf("ssh_key: %w", err)
	}
	return key, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fetchArchive downloads the archive into stage, checks its sha256 and,
// unless it is curRev, extracts it into stage/tree. It returns the sha256.
func (f *CookbookFetcher) fetchArchive(ctx context.Context, src CookbookSource, stage, curRev string) (sum, tree string, err error) {
	body, err := f.openArchive(ctx, src)
	if err != nil {
		return "", "", err
	}
	defer body.Close()
	file := filepath.Join(stage, "archive")
	if sum, err = archive.SaveArchive(body, file, f.maxSize()); err != nil {
		return "", "", err
	}
	if src.Checksum != "" && sum != src.Checksum {
		return "", "", fmt.Errorf("%w: archive has sha256 %s, want %s", ErrChecksumMismatch, sum, src.Checksum)
	}
	if sum == curRev {
		return sum, "", nil
	}
	tree = filepath.Join(stage, "tree")
	if err := archive.ExtractArchive(file, tree, f.maxSize(), f.log()); err != nil {
		return "", "", err
	}
	return sum, tree, nil
}
