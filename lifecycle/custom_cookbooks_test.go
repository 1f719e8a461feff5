package lifecycle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/stackagent/stackagent/internal/archive/archivetest"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/checksum"
	"github.com/stackagent/stackagent/internal/command"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
	"github.com/stackagent/stackagent/testenv"
)

func TestCookbookSourceFromAttributes(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		attrs   map[string]any
		want    *CookbookSource
		wantErr string // the whole message
	}{
		{"absent", map[string]any{"stackagent": map[string]any{"other": 1}}, nil, ""},
		{"empty", map[string]any{}, nil, ""},
		{"a tree without stackagent", map[string]any{"deploy": map[string]any{"wordpress": map[string]any{}}}, nil, ""},
		{
			"the custom_cookbooks object itself",
			map[string]any{"Type": "s3", "Url": "https://s3.amazonaws.com/b/cookbooks.tgz"},
			&CookbookSource{Type: "s3", URL: "https://s3.amazonaws.com/b/cookbooks.tgz"}, "",
		},
		{"the object itself, wrong", map[string]any{"Type": "git"}, nil, "stackagent.custom_cookbooks.url: missing"},
		{"stackagent without custom_cookbooks", map[string]any{"stackagent": map[string]any{}}, nil, ""},
		{"null", map[string]any{"stackagent": map[string]any{"custom_cookbooks": nil}}, nil, ""},
		{"empty object", map[string]any{"stackagent": map[string]any{"custom_cookbooks": map[string]any{}}}, nil, ""},
		{
			"snake case keys",
			cc(map[string]any{"type": "git", "url": "git@github.com:acme/cookbooks.git", "revision": "main", "ssh_key": "/etc/stackagent/deploy_key", "subdir": "cookbooks/"}),
			&CookbookSource{Type: "git", URL: "git@github.com:acme/cookbooks.git", Revision: "main", SSHKey: "/etc/stackagent/deploy_key", Subdir: "cookbooks"}, "",
		},
		{
			"OpsWorks keys",
			cc(map[string]any{"Type": "git", "Url": "https://github.com/acme/cookbooks.git", "Revision": "v2", "SshKey": ""}),
			&CookbookSource{Type: "git", URL: "https://github.com/acme/cookbooks.git", Revision: "v2"}, "",
		},
		{
			"OpsWorks archive over http is http",
			cc(map[string]any{"Type": "archive", "Url": "https://example.com/cookbooks.tgz"}),
			&CookbookSource{Type: "http", URL: "https://example.com/cookbooks.tgz"}, "",
		},
		{
			"s3 with prefixed checksum",
			cc(map[string]any{"type": "S3", "url": "s3://bucket/path/cookbooks.zip", "checksum": "sha256:" + strings.ToUpper(sha)}),
			&CookbookSource{Type: "s3", URL: "s3://bucket/path/cookbooks.zip", Checksum: sha}, "",
		},
		{"not an object", map[string]any{"stackagent": map[string]any{"custom_cookbooks": "git"}}, nil, "stackagent.custom_cookbooks: want an object, got string"},
		{"url missing", cc(map[string]any{"type": "git"}), nil, "stackagent.custom_cookbooks.url: missing"},
		{"type missing", cc(map[string]any{"url": "x"}), nil, "stackagent.custom_cookbooks.type: missing (want git|s3|http|archive)"},
		{"svn", cc(map[string]any{"Type": "svn", "Url": "svn://x"}), nil, `stackagent.custom_cookbooks.type: unknown type "svn" (want git|s3|http|archive)`},
		{"unknown key", cc(map[string]any{"type": "git", "url": "x", "Password": "p"}), nil, "stackagent.custom_cookbooks.Password: unknown key (want type, url, revision, ssh_key, checksum, subdir)"},
		{"not a string", cc(map[string]any{"type": "git", "url": 42.0}), nil, "stackagent.custom_cookbooks.url: want a string, got float64"},
		{"twice", cc(map[string]any{"Url": "a", "url": "b", "type": "git"}), nil, `stackagent.custom_cookbooks.url: given twice (also as "Url")`},
		{"bad checksum", cc(map[string]any{"type": "http", "url": "http://h/x.tgz", "checksum": "abc"}), nil, `stackagent.custom_cookbooks.checksum: want a sha256 in hex (64 characters), got "abc"`},
		{"checksum on git", cc(map[string]any{"type": "git", "url": "x", "checksum": sha}), nil, "stackagent.custom_cookbooks.checksum: only for s3, http and archive sources (git has its commit sha)"},
		{"revision on s3", cc(map[string]any{"type": "s3", "url": "s3://b/k", "revision": "main"}), nil, "stackagent.custom_cookbooks.revision: only for git sources"},
		{"s3 without key", cc(map[string]any{"type": "s3", "url": "s3://bucket"}), nil, `stackagent.custom_cookbooks.url: want s3://bucket/key, got "s3://bucket"`},
		{"http not http", cc(map[string]any{"type": "http", "url": "ftp://h/x"}), nil, `stackagent.custom_cookbooks.url: want an http(s) URL, got "ftp://h/x"`},
		{"archive relative", cc(map[string]any{"type": "archive", "url": "cb.tgz"}), nil, `stackagent.custom_cookbooks.url: want an absolute path or file:// URL, got "cb.tgz"`},
		{"subdir escapes", cc(map[string]any{"type": "git", "url": "x", "subdir": "a/../../b"}), nil, `stackagent.custom_cookbooks.subdir: want a relative path inside the repository or archive, got "a/../../b"`},
		{"option injection", cc(map[string]any{"type": "git", "url": "--upload-pack=evil"}), nil, "stackagent.custom_cookbooks.url: must not start with '-'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CookbookSourceFromAttributes(tt.attrs)
			if tt.wantErr != "" {
				var se *CookbookSourceError
				if !errors.As(err, &se) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want *CookbookSourceError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func cc(m map[string]any) map[string]any {
	return map[string]any{"stackagent": map[string]any{"custom_cookbooks": m}}
}

func TestCookbookSourceValidateAndS3URLs(t *testing.T) {
	t.Parallel()
	if err := (CookbookSource{Type: "git"}).Validate(); err == nil || err.Error() != "custom_cookbooks.url: missing" {
		t.Fatalf("Validate = %v", err)
	}
	for in, want := range map[string]string{
		"s3://b/k/x.tgz":                                "b k/x.tgz",
		"https://b.s3.amazonaws.com/k.zip":              "b k.zip",
		"https://b.s3.eu-west-1.amazonaws.com/d/k.zip":  "b d/k.zip",
		"https://s3.amazonaws.com/b/d/k.zip":            "b d/k.zip",
		"https://s3-us-west-2.amazonaws.com/b/k.tgz":    "b k.tgz",
		"https://s3.cn-north-1.amazonaws.com.cn/b/k.gz": "b k.gz",
	} {
		b, k, err := parseS3URL(in)
		if err != nil || b+" "+k != want {
			t.Errorf("parseS3URL(%q) = %q %q %v, want %s", in, b, k, err, want)
		}
	}
}

// --- git ---

// gitRepo is a real repository built with the git binary.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	testenv.Command(t, "git", "scripts/test-deps.sh installs it, as root")
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "--quiet", "--initial-branch=main")
	return r
}

func (r *gitRepo) url() string { return "file://" + r.dir }

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path -> content) and commits them; it returns the sha.
func (r *gitRepo) commit(files map[string]string) string {
	r.t.Helper()
	writeFiles(r.t, r.dir, files)
	r.git("add", "-A")
	r.git("commit", "--quiet", "-m", "change")
	return r.git("rev-parse", "HEAD")
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newFetcher(t *testing.T) *CookbookFetcher {
	t.Helper()
	return &CookbookFetcher{Dir: filepath.Join(t.TempDir(), "custom-cookbooks"), Now: steppingClock()}
}

// steppingClock starts at a fixed time and moves a minute per call.
func steppingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 10, 11, 12, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Minute)
		return now
	}
}

func fetch(t *testing.T, f *CookbookFetcher, src CookbookSource) FetchResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.Fetch(ctx, src)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return res
}

func fetchErr(t *testing.T, f *CookbookFetcher, src CookbookSource) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.Fetch(ctx, src)
	if err == nil {
		t.Fatalf("Fetch = %+v, want an error", res)
	}
	return err
}

// assertCurrent checks that Dir/current points at res.Dir and reads file
// there.
func assertCurrent(t *testing.T, f *CookbookFetcher, res FetchResult, file, want string) {
	t.Helper()
	target, err := os.Readlink(filepath.Join(f.Dir, "current"))
	if err != nil {
		t.Fatal(err)
	}
	if target != filepath.Join("releases", filepath.Base(res.Dir)) {
		t.Fatalf("current -> %s, want the release %s", target, res.Dir)
	}
	got, err := os.ReadFile(filepath.Join(f.Dir, "current", file))
	if err != nil || string(got) != want {
		t.Fatalf("current/%s = %q, %v; want %q", file, got, err, want)
	}
	cur, err := f.Current()
	if err != nil || cur != (FetchResult{Dir: res.Dir, Revision: res.Revision}) {
		t.Fatalf("Current = %+v, %v; want %s at %s", cur, err, res.Revision, res.Dir)
	}
}

func releases(t *testing.T, f *CookbookFetcher) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(f.Dir, "releases"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// assertNoLeftovers checks that Dir holds only releases/ and current.
func assertNoLeftovers(t *testing.T, f *CookbookFetcher) {
	t.Helper()
	ents, _ := os.ReadDir(f.Dir)
	for _, e := range ents {
		if e.Name() != "releases" && e.Name() != "current" {
			t.Errorf("left behind in %s: %s", f.Dir, e.Name())
		}
	}
}

const recipeV1, recipeV2 = `package "apache2"`, `package "nginx"`

func TestCookbookFetchGitBranch(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	sha1 := repo.commit(map[string]string{"apache2/recipes/default.lua": recipeV1, "README.md": "cookbooks"})
	f := newFetcher(t)
	src := CookbookSource{Type: "git", URL: repo.url(), Revision: "main"}

	first := fetch(t, f, src)
	if !first.Changed || first.Revision != sha1 {
		t.Fatalf("first fetch = %+v, want changed at %s", first, sha1)
	}
	assertCurrent(t, f, first, "apache2/recipes/default.lua", recipeV1)
	if _, err := os.Stat(filepath.Join(first.Dir, ".git")); !os.IsNotExist(err) {
		t.Errorf(".git kept in the release: %v", err)
	}

	again := fetch(t, f, src)
	if again != (FetchResult{Dir: first.Dir, Revision: sha1}) {
		t.Fatalf("second fetch = %+v, want unchanged %+v", again, first)
	}
	if n := len(releases(t, f)); n != 1 {
		t.Fatalf("%d releases after an unchanged fetch, want 1", n)
	}

	sha2 := repo.commit(map[string]string{"apache2/recipes/default.lua": recipeV2})
	second := fetch(t, f, src)
	if !second.Changed || second.Revision != sha2 || second.Dir == first.Dir {
		t.Fatalf("fetch after a commit = %+v, want changed at %s", second, sha2)
	}
	assertCurrent(t, f, second, "apache2/recipes/default.lua", recipeV2)
	if got, _ := os.ReadFile(filepath.Join(first.Dir, "apache2/recipes/default.lua")); string(got) != recipeV1 {
		t.Errorf("previous release changed: %q", got)
	}
	assertNoLeftovers(t, f)
}

func TestCookbookFetchGitTagSHAAndDefault(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	sha1 := repo.commit(map[string]string{"cookbooks/apache2/recipes/default.lua": recipeV1})
	repo.git("tag", "-a", "-m", "release 1", "v1")
	sha2 := repo.commit(map[string]string{"cookbooks/apache2/recipes/default.lua": recipeV2})

	t.Run("annotated tag", func(t *testing.T) {
		t.Parallel()
		f := newFetcher(t)
		src := CookbookSource{Type: "git", URL: repo.url(), Revision: "v1", Subdir: "cookbooks"}
		res := fetch(t, f, src)
		if res.Revision != sha1 || !res.Changed {
			t.Fatalf("tag fetch = %+v, want the tagged commit %s", res, sha1)
		}
		assertCurrent(t, f, res, "apache2/recipes/default.lua", recipeV1)
		if again := fetch(t, f, src); again.Changed {
			t.Fatalf("second tag fetch changed: %+v", again)
		}
	})
	t.Run("sha of an older commit", func(t *testing.T) {
		t.Parallel()
		f := newFetcher(t)
		src := CookbookSource{Type: "git", URL: repo.url(), Revision: sha1, Subdir: "cookbooks"}
		res := fetch(t, f, src)
		if res.Revision != sha1 {
			t.Fatalf("sha fetch = %+v, want %s", res, sha1)
		}
		assertCurrent(t, f, res, "apache2/recipes/default.lua", recipeV1)
		if again := fetch(t, f, src); again.Changed {
			t.Fatalf("second sha fetch changed: %+v", again)
		}
	})
	t.Run("default branch", func(t *testing.T) {
		t.Parallel()
		f := newFetcher(t)
		res := fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Subdir: "cookbooks"})
		if res.Revision != sha2 {
			t.Fatalf("default branch fetch = %+v, want %s", res, sha2)
		}
		assertCurrent(t, f, res, "apache2/recipes/default.lua", recipeV2)
	})
	t.Run("single top-level folder without subdir", func(t *testing.T) {
		t.Parallel()
		f := newFetcher(t)
		res := fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: "main"})
		assertCurrent(t, f, res, "apache2/recipes/default.lua", recipeV2)
	})
}

// recordingRunner runs commands for real and keeps them.
type recordingRunner struct {
	mu   sync.Mutex
	cmds []command.Command
}

func (r *recordingRunner) Run(ctx context.Context, c command.Command) (command.Result, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c)
	r.mu.Unlock()
	return command.ExecRunner{}.Run(ctx, c)
}

func TestCookbookFetchGitSSHKey(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	repo.commit(map[string]string{"apache2/recipes/default.lua": recipeV1})
	// A key path with a space and a command substitution: never part of
	// the command git's shell runs.
	key := filepath.Join(t.TempDir(), "deploy key $(touch pwned)")
	writeFiles(t, filepath.Dir(key), map[string]string{filepath.Base(key): "not used over file://"})

	for name, sshKey := range map[string]string{"path": key, "inline key": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run := &recordingRunner{}
			f := newFetcher(t)
			f.Runner = run
			fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: "main", SSHKey: sshKey})
			want := "-o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new"
			for _, c := range run.cmds {
				i := slices.IndexFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, "GIT_SSH_COMMAND=") })
				if i < 0 || !strings.HasPrefix(c.Env[i], "GIT_SSH_COMMAND=ssh -i /") || !strings.HasSuffix(c.Env[i], want) {
					t.Fatalf("%s: env %q, want GIT_SSH_COMMAND=ssh -i /… %s", c, c.Env, want)
				}
				staged := strings.Fields(strings.TrimPrefix(c.Env[i], "GIT_SSH_COMMAND="))[2]
				if strings.ContainsAny(c.Env[i], "$'\"` ;&|()") && !strings.HasPrefix(c.Env[i], "GIT_SSH_COMMAND=ssh -i "+staged+" ") || strings.Contains(c.Env[i], "$(") {
					t.Errorf("GIT_SSH_COMMAND %q holds shell syntax", c.Env[i])
				}
				if !slices.Contains(c.Env, "GIT_ALLOW_PROTOCOL=file:git:http:https:ssh") {
					t.Errorf("%s: transports not limited: %q", c, c.Env)
				}
			}
			if len(run.cmds) < 2 {
				t.Fatalf("ran %d git commands, want ls-remote and clone at least", len(run.cmds))
			}
		})
	}
	f := newFetcher(t)
	err := fetchErr(t, f, CookbookSource{Type: "git", URL: repo.url(), SSHKey: "/nonexistent/key"})
	if !strings.Contains(err.Error(), "ssh_key: ") {
		t.Fatalf("missing key: %v", err)
	}
}

func TestCookbookFetchGitFailureKeepsCurrent(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	repo.commit(map[string]string{"apache2/recipes/default.lua": recipeV1})
	f := newFetcher(t)
	good := fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: "main"})

	err := fetchErr(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: "no-such-branch"})
	if !errors.Is(err, ErrRevisionNotFound) {
		t.Fatalf("unknown branch: %v, want ErrRevisionNotFound", err)
	}
	fetchErr(t, f, CookbookSource{Type: "git", URL: "file://" + filepath.Join(t.TempDir(), "missing")})
	fetchErr(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: strings.Repeat("0", 40)})

	repo.git("rm", "--quiet", "-r", "apache2")
	repo.commit(map[string]string{"docs/README.md": "no cookbooks here"})
	if err := fetchErr(t, f, CookbookSource{Type: "git", URL: repo.url(), Revision: "main"}); !errors.Is(err, ErrNoCookbooks) {
		t.Fatalf("repository without cookbooks: %v, want ErrNoCookbooks", err)
	}
	assertCurrent(t, f, good, "apache2/recipes/default.lua", recipeV1)
	if n := len(releases(t, f)); n != 1 {
		t.Fatalf("%d releases after failed fetches, want 1", n)
	}
	assertNoLeftovers(t, f)
}

// --- archives ---

// entry is one archive member: a file (Body), a dir (Dir) or a symlink
// (Link).
type entry = archivetest.Entry

func tarGz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	// GitHub's archives start with a pax global header carrying the commit.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc123"}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.Body))}
		switch {
		case e.Dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case e.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipArchive(t *testing.T, entries ...entry) []byte {
	t.Helper()
	b, err := archivetest.Zip(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// githubStyle is a single top-level folder holding two cookbooks.
func githubStyle(recipe string) []entry {
	return []entry{
		{Name: "cookbooks-abc123/", Dir: true},
		{Name: "cookbooks-abc123/apache2/recipes/default.lua", Body: recipe},
		{Name: "cookbooks-abc123/apache2/templates/vhost.conf.erb", Body: "<VirtualHost>"},
		{Name: "cookbooks-abc123/apache2/templates/default.erb", Link: "vhost.conf.erb"},
		{Name: "cookbooks-abc123/php/recipes/default.lua", Body: `package "php"`},
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// archiveServer serves path -> body over https on 127.0.0.1 (plain http
// needs a checksum); bodies can be replaced.
type archiveServer struct {
	mu    sync.Mutex
	files map[string][]byte
	*httptest.Server
}

func newArchiveServer(t *testing.T) *archiveServer {
	t.Helper()
	s := &archiveServer{files: map[string][]byte{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *archiveServer) put(p string, body []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = body
	return s.URL + p
}

func TestCookbookFetchHTTPArchives(t *testing.T) {
	t.Parallel()
	srv := newArchiveServer(t)
	for _, kind := range []string{"tar.gz", "zip"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			build := func(recipe string) []byte {
				if kind == "zip" {
					return zipArchive(t, githubStyle(recipe)...)
				}
				return tarGz(t, githubStyle(recipe)...)
			}
			// No extension in the URL: the format comes from the magic bytes.
			v1 := build(recipeV1)
			u := srv.put("/"+kind+"/cookbooks", v1)
			f := newFetcher(t)
			f.HTTP = srv.Client()
			src := CookbookSource{Type: "http", URL: u, Checksum: "sha256:" + sha256Hex(v1)}

			first := fetch(t, f, src)
			if !first.Changed || first.Revision != sha256Hex(v1) {
				t.Fatalf("first fetch = %+v, want changed at %s", first, sha256Hex(v1))
			}
			assertCurrent(t, f, first, "apache2/recipes/default.lua", recipeV1)
			assertCurrent(t, f, first, "apache2/templates/default.erb", "<VirtualHost>")
			if again := fetch(t, f, src); again != (FetchResult{Dir: first.Dir, Revision: first.Revision}) {
				t.Fatalf("second fetch = %+v, want unchanged", again)
			}

			v2 := build(recipeV2)
			srv.put("/"+kind+"/cookbooks", v2)
			err := fetchErr(t, f, src) // the checksum still names v1
			if !errors.Is(err, checksum.ErrMismatch) {
				t.Fatalf("checksum mismatch: %v, want checksum.ErrMismatch", err)
			}
			assertCurrent(t, f, first, "apache2/recipes/default.lua", recipeV1)
			if n := len(releases(t, f)); n != 1 {
				t.Fatalf("%d releases after a checksum mismatch, want 1", n)
			}

			src.Checksum = ""
			second := fetch(t, f, src)
			if !second.Changed || second.Revision != sha256Hex(v2) {
				t.Fatalf("fetch of v2 = %+v, want changed", second)
			}
			assertCurrent(t, f, second, "apache2/recipes/default.lua", recipeV2)
			assertNoLeftovers(t, f)
		})
	}
}

func TestCookbookFetchArchiveRefusals(t *testing.T) {
	t.Parallel()
	srv := newArchiveServer(t)
	ok := []entry{{Name: "apache2/recipes/default.lua", Body: recipeV1}}
	tests := []struct {
		name    string
		archive func(t *testing.T) []byte
		max     int64
		want    error
	}{
		{"tar dot-dot", func(t *testing.T) []byte {
			return tarGz(t, append(ok, entry{Name: "apache2/../../evil", Body: "x"})...)
		}, 0, ErrUnsafeArchive},
		{"tar absolute", func(t *testing.T) []byte { return tarGz(t, append(ok, entry{Name: "/tmp/evil", Body: "x"})...) }, 0, ErrUnsafeArchive},
		{"tar symlink absolute", func(t *testing.T) []byte {
			return tarGz(t, append(ok, entry{Name: "apache2/passwd", Link: "/etc/passwd"})...)
		}, 0, ErrUnsafeArchive},
		{"tar symlink outside", func(t *testing.T) []byte { return tarGz(t, append(ok, entry{Name: "apache2/up", Link: "../../.."})...) }, 0, ErrUnsafeArchive},
		{"tar symlink then write through it", func(t *testing.T) []byte {
			return tarGz(t, append(ok, entry{Name: "a", Link: "."}, entry{Name: "b", Link: "a/.."}, entry{Name: "b/evil", Body: "x"})...)
		}, 0, nil},
		{"tar symlink chain outside", func(t *testing.T) []byte {
			return tarGz(t, append(ok, entry{Name: "a", Link: "."}, entry{Name: "b", Link: "a/.."})...)
		}, 0, ErrUnsafeArchive},
		{"zip dot-dot", func(t *testing.T) []byte { return zipArchive(t, append(ok, entry{Name: "../evil", Body: "x"})...) }, 0, ErrUnsafeArchive},
		{"zip symlink outside", func(t *testing.T) []byte {
			return zipArchive(t, append(ok, entry{Name: "apache2/x", Link: "../../../etc"})...)
		}, 0, ErrUnsafeArchive},
		{"too large tar", func(t *testing.T) []byte {
			return tarGz(t, append(ok, entry{Name: "apache2/files/big", Body: strings.Repeat("x", 64<<10)})...)
		}, 16 << 10, ErrArchiveTooLarge},
		{"too large zip", func(t *testing.T) []byte {
			return zipArchive(t, append(ok, entry{Name: "apache2/files/big", Body: strings.Repeat("x", 64<<10)})...)
		}, 16 << 10, ErrArchiveTooLarge},
		{"download too large", func(t *testing.T) []byte { return tarGz(t, ok...) }, 16, ErrArchiveTooLarge},
		{"not an archive", func(t *testing.T) []byte { return []byte("<html>login page</html>") }, 0, ErrUnknownArchive},
		{"no cookbooks", func(t *testing.T) []byte { return tarGz(t, entry{Name: "site/README.md", Body: "x"}) }, 0, ErrNoCookbooks},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFetcher(t)
			f.HTTP = srv.Client()
			good := fetch(t, f, CookbookSource{Type: "http", URL: srv.put("/good-"+tt.name, tarGz(t, ok...))})

			f.MaxSize = tt.max
			u := srv.put("/bad-"+string(rune('a'+i)), tt.archive(t))
			err := fetchErr(t, f, CookbookSource{Type: "http", URL: u})
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertCurrent(t, f, good, "apache2/recipes/default.lua", recipeV1)
			if n := len(releases(t, f)); n != 1 {
				t.Fatalf("%d releases after a refused archive, want 1", n)
			}
			assertNoLeftovers(t, f)
			for _, p := range []string{filepath.Join(f.Dir, "evil"), filepath.Join(filepath.Dir(f.Dir), "evil")} {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("%s written outside the release", p)
				}
			}
		})
	}
	t.Run("http 404", func(t *testing.T) {
		t.Parallel()
		f := newFetcher(t)
		f.HTTP = srv.Client()
		err := fetchErr(t, f, CookbookSource{Type: "http", URL: srv.URL + "/missing.tgz"})
		if !strings.Contains(err.Error(), "404") {
			t.Fatalf("err = %v, want the status", err)
		}
		if _, err := f.Current(); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Current after a failed first fetch = %v, want ErrNotExist", err)
		}
	})
}

func TestCookbookFetchLocalArchivesKeepsThree(t *testing.T) {
	t.Parallel()
	f := newFetcher(t)
	dir := t.TempDir()
	var results []FetchResult
	for i := range 5 {
		recipe := `package "p` + string(rune('0'+i)) + `"`
		p := filepath.Join(dir, "cookbooks.tgz")
		if err := os.WriteFile(p, tarGz(t, entry{Name: "base/recipes/default.lua", Body: recipe}), 0o644); err != nil {
			t.Fatal(err)
		}
		url := p
		if i%2 == 1 {
			url = "file://" + p
		}
		res := fetch(t, f, CookbookSource{Type: "archive", URL: url})
		assertCurrent(t, f, res, "base/recipes/default.lua", recipe)
		results = append(results, res)
	}
	want := []string{filepath.Base(results[2].Dir), filepath.Base(results[3].Dir), filepath.Base(results[4].Dir)}
	if got := releases(t, f); !slices.Equal(got, want) {
		t.Fatalf("releases = %v, want the last three %v", got, want)
	}
	if !strings.HasPrefix(want[2], "20261125T101612.000Z-") {
		t.Errorf("release name %s, want <UTC time>-<sha256>", want[2])
	}
}

func TestCookbookFetchSubdirInArchive(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "repo.zip")
	archive := zipArchive(t,
		entry{Name: "repo-main/README.md", Body: "x"},
		entry{Name: "repo-main/chef/cookbooks/apache2/recipes/default.lua", Body: recipeV1},
	)
	if err := os.WriteFile(p, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"chef/cookbooks", "repo-main/chef/cookbooks"} {
		f := newFetcher(t)
		res := fetch(t, f, CookbookSource{Type: "archive", URL: p, Subdir: sub})
		assertCurrent(t, f, res, "apache2/recipes/default.lua", recipeV1)
	}
	f := newFetcher(t)
	if err := fetchErr(t, f, CookbookSource{Type: "archive", URL: p, Subdir: "nope"}); !strings.Contains(err.Error(), `subdir "nope"`) {
		t.Fatalf("missing subdir: %v", err)
	}
}

// --- S3 ---

func TestCookbookFetchS3(t *testing.T) {
	t.Parallel()
	srv := sqstest.Shared(t)
	client := s3.New(s3.Options{
		Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bucket := "custom-cookbooks-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	v1 := tarGz(t, githubStyle(recipeV1)...)
	put("stacks/prod/cookbooks.tgz", v1)

	f := newFetcher(t)
	f.S3 = client
	src := CookbookSource{Type: "s3", URL: "s3://" + bucket + "/stacks/prod/cookbooks.tgz", Checksum: sha256Hex(v1)}
	first := fetch(t, f, src)
	if !first.Changed || first.Revision != sha256Hex(v1) {
		t.Fatalf("first fetch = %+v, want changed at %s", first, sha256Hex(v1))
	}
	assertCurrent(t, f, first, "php/recipes/default.lua", `package "php"`)
	if again := fetch(t, f, src); again.Changed {
		t.Fatalf("second fetch changed: %+v", again)
	}

	v2 := zipArchive(t, githubStyle(recipeV2)...)
	put("stacks/prod/cookbooks.tgz", v2)
	src.Checksum = ""
	second := fetch(t, f, src)
	if !second.Changed || second.Revision != sha256Hex(v2) {
		t.Fatalf("fetch after put = %+v, want changed at %s", second, sha256Hex(v2))
	}
	assertCurrent(t, f, second, "apache2/recipes/default.lua", recipeV2)

	fetchErr(t, f, CookbookSource{Type: "s3", URL: "s3://" + bucket + "/missing.tgz"})
	assertCurrent(t, f, second, "apache2/recipes/default.lua", recipeV2)

	noClient := newFetcher(t)
	if err := fetchErr(t, noClient, src); !strings.Contains(err.Error(), "no S3 client") {
		t.Fatalf("without a client: %v", err)
	}
}

func TestCookbookFetchNewSubdirSameRevision(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	sha := repo.commit(map[string]string{
		"cookbooks/apache2/recipes/default.lua": recipeV1,
		"staging/nginx/recipes/default.lua":     recipeV2,
	})
	f := newFetcher(t)
	first := fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Subdir: "cookbooks"})
	second := fetch(t, f, CookbookSource{Type: "git", URL: repo.url(), Subdir: "staging"})
	if !second.Changed || second.Revision != sha || second.Dir == first.Dir {
		t.Fatalf("fetch of another subdir = %+v, want a new release at %s", second, sha)
	}
	assertCurrent(t, f, second, "nginx/recipes/default.lua", recipeV2)
	marker, err := os.ReadFile(filepath.Join(second.Dir, releaseMarker))
	if err != nil || !strings.Contains(string(marker), `"subdir":"staging"`) || !strings.Contains(string(marker), sha) {
		t.Fatalf("%s = %s, %v", releaseMarker, marker, err)
	}
}

func TestCookbookFetchTimeoutKeepsCurrent(t *testing.T) {
	t.Parallel()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte{0x1f, 0x8b})
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a download that never ends
	}))
	t.Cleanup(stall.Close)
	p := filepath.Join(t.TempDir(), "cookbooks.tgz")
	if err := os.WriteFile(p, tarGz(t, entry{Name: "base/recipes/default.lua", Body: recipeV1}), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t)
	good := fetch(t, f, CookbookSource{Type: "archive", URL: p})
	f.Timeout = 200 * time.Millisecond
	start := time.Now()
	// Plain http needs a checksum; the download stalls before it is checked.
	err := fetchErr(t, f, CookbookSource{Type: "http", URL: stall.URL + "/cookbooks.tgz", Checksum: strings.Repeat("0", 64)})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("stalled download: %v after %s, want a deadline error", err, time.Since(start))
	}
	assertCurrent(t, f, good, "base/recipes/default.lua", recipeV1)
	assertNoLeftovers(t, f)
}
