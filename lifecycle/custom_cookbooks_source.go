package lifecycle

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/lazyre"
)

// Where update_custom_cookbooks fetches from: the source, from agent.yaml or
// the stack's attributes.

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
	// MaxSize bounds an archive, downloaded and uncompressed, in bytes;
	// 0: the fetcher's (512 MiB). agent.yaml only.
	MaxSize int64 `json:"-" yaml:"max_size,omitempty"`
	// MaxEntries bounds an archive's entries; 0: 100,000. agent.yaml only.
	MaxEntries int `json:"-" yaml:"max_entries,omitempty"`
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
	hexSHA256 = lazyre.New(`^[0-9a-f]{64}$`)
	gitSHA    = lazyre.New(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// normalize returns s with Type, Checksum and Subdir in canonical form,
// or the first field at fault, named prefix.<key>.
func (s CookbookSource) normalize(prefix string) (CookbookSource, error) {
	s.Type = strings.ToLower(strings.TrimSpace(s.Type))
	s.URL = strings.TrimSpace(s.URL)
	s.Revision = strings.TrimSpace(s.Revision)
	s.Checksum = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s.Checksum), "sha256:"))
	if s.URL == "" {
		return CookbookSource{}, sourceError(prefix, "url", "missing")
	}
	if strings.HasPrefix(s.URL, "-") {
		return CookbookSource{}, sourceError(prefix, "url", "must not start with '-'")
	}
	scheme := ""
	if u, err := url.Parse(s.URL); err == nil {
		scheme = strings.ToLower(u.Scheme)
	}
	s.Type = canonicalType(s.Type, scheme)
	for _, check := range []func(string, string) error{s.checkURL, s.checkTypeFields, s.checkLimits} {
		if err := check(prefix, scheme); err != nil {
			return CookbookSource{}, err
		}
	}
	subdir, err := cleanSubdir(prefix, s.Subdir)
	if err != nil {
		return CookbookSource{}, err
	}
	s.Subdir = subdir
	return s, nil
}

// sourceError is a fault in prefix.field.
func sourceError(prefix, field, format string, a ...any) error {
	return &CookbookSourceError{Field: prefix + "." + field, Msg: fmt.Sprintf(format, a...)}
}

// canonicalType folds the type's aliases: https is http, and OpsWorks'
// "archive" of an http(s) or s3 URL is that source.
func canonicalType(typ, scheme string) string {
	switch {
	case typ == "https":
		return CookbookSourceHTTP
	case typ == CookbookSourceArchive && (scheme == "http" || scheme == "https"):
		return CookbookSourceHTTP // OpsWorks' "archive" was an HTTP archive
	case typ == CookbookSourceArchive && scheme == "s3":
		return CookbookSourceS3
	}
	return typ
}

// checkURL checks the type and that the URL is one the type reads.
func (s CookbookSource) checkURL(prefix, scheme string) error {
	switch s.Type {
	case "":
		return sourceError(prefix, "type", "missing (want git|s3|http|archive)")
	case CookbookSourceGit:
	case CookbookSourceS3:
		if _, _, err := parseS3URL(s.URL); err != nil {
			return sourceError(prefix, "url", "%v", err)
		}
	case CookbookSourceHTTP:
		if scheme != "http" && scheme != "https" {
			return sourceError(prefix, "url", "want an http(s) URL, got %q", redactURL(s.URL))
		}
		if err := archive.RequireChecksum(s.URL, s.Checksum, "add "+prefix+".checksum (the archive's sha256: sha256sum ARCHIVE prints it)"); err != nil {
			return sourceError(prefix, "checksum", "%v", err)
		}
	case CookbookSourceArchive:
		if p := localPath(s.URL); !filepath.IsAbs(p) {
			return sourceError(prefix, "url", "want an absolute path or file:// URL, got %q", s.URL)
		}
	default:
		return sourceError(prefix, "type", "unknown type %q (want git|s3|http|archive)", s.Type)
	}
	return nil
}

// checkTypeFields refuses the fields the type does not take: a checksum
// for git; a revision or ssh_key for an archive.
func (s CookbookSource) checkTypeFields(prefix, _ string) error {
	if s.Type == CookbookSourceGit {
		if s.Checksum != "" {
			return sourceError(prefix, "checksum", "only for s3, http and archive sources (git has its commit sha)")
		}
		if strings.HasPrefix(s.Revision, "-") {
			return sourceError(prefix, "revision", "must not start with '-'")
		}
		return nil
	}
	if s.Revision != "" {
		return sourceError(prefix, "revision", "only for git sources")
	}
	if s.SSHKey != "" {
		return sourceError(prefix, "ssh_key", "only for git sources")
	}
	if s.Checksum != "" && !hexSHA256().MatchString(s.Checksum) {
		return sourceError(prefix, "checksum", "want a sha256 in hex (64 characters), got %q", s.Checksum)
	}
	return nil
}

// checkLimits refuses negative archive limits.
func (s CookbookSource) checkLimits(prefix, _ string) error {
	if s.MaxSize < 0 {
		return sourceError(prefix, "max_size", "want a positive number of bytes (0: the default)")
	}
	if s.MaxEntries < 0 {
		return sourceError(prefix, "max_entries", "want a positive number (0: the default)")
	}
	return nil
}

// cleanSubdir returns subdir cleaned ("" for the top), or an error when
// it leaves the repository or archive.
func cleanSubdir(prefix, subdir string) (string, error) {
	if subdir == "" {
		return "", nil
	}
	clean := path.Clean(strings.TrimSpace(subdir))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", sourceError(prefix, "subdir", "want a relative path inside the repository or archive, got %q", subdir)
	}
	if clean == "." {
		clean = ""
	}
	return clean, nil
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
