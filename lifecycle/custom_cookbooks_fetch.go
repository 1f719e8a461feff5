package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/internal/checksum"
	"github.com/stackagent/stackagent/internal/command"
	"github.com/stackagent/stackagent/internal/lazyre"
)

// How a custom cookbook source is fetched: archives (s3, http, local
// path) and git repositories.

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
		if err := archive.CheckResponse(resp, src.Checksum, "add custom_cookbooks.checksum (the archive's sha256: sha256sum ARCHIVE prints it)"); err != nil {
			resp.Body.Close()
			return nil, err
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
	// No prompts, and only transports that run no command named in the
	// URL (never ext:: or fd::).
	env := []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/true", "SSH_ASKPASS=/bin/true",
		"GIT_ALLOW_PROTOCOL=file:git:http:https:ssh"}
	if strings.HasPrefix(src.URL, "-") {
		return "", "", fmt.Errorf("custom_cookbooks.url: %q starts with '-'", src.URL)
	}
	if src.SSHKey != "" {
		key, err := sshKeyFile(src.SSHKey, stage)
		if err != nil {
			return "", "", err
		}
		// git runs GIT_SSH_COMMAND through /bin/sh: it is fixed text and
		// the path of the copy the agent made, checked to hold no shell
		// metacharacter; no part of the configured value reaches it.
		if !safeKeyPath().MatchString(key) {
			return "", "", fmt.Errorf("ssh_key: the staging path %q holds characters a shell would read; set state_dir to a plain path", key)
		}
		env = append(env, "GIT_SSH_COMMAND=ssh -i "+key+" -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new")
	}
	tree = filepath.Join(stage, "tree")
	if gitSHA().MatchString(strings.ToLower(src.Revision)) {
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
		run = command.ExecRunner{}
	}
	res, err := run.Run(ctx, command.Command{Path: "git", Args: args, Dir: dir, Env: env})
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
	text := strings.TrimSpace(key)
	if !strings.HasPrefix(text, "-----BEGIN") {
		// A key file: copied, so that the path git's ssh sees is one the
		// agent made.
		if !filepath.IsAbs(key) {
			return "", fmt.Errorf("ssh_key: %q is neither the key's text nor an absolute path", key)
		}
		b, err := os.ReadFile(key)
		if err != nil {
			return "", fmt.Errorf("ssh_key: %w", err)
		}
		text = strings.TrimSpace(string(b))
	}
	p := filepath.Join(stage, "ssh_key")
	if err := atomicfile.WriteFile(p, []byte(text+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("ssh_key: %w", err)
	}
	return p, nil
}

// safeKeyPath is what the staged key's path must look like to go into
// GIT_SSH_COMMAND unquoted.
var safeKeyPath = lazyre.New(`^[A-Za-z0-9/._-]+$`)

// fetchArchive downloads the archive into stage, checks its sha256 and,
// unless it is curRev, extracts it into stage/tree. It returns the sha256.
func (f *CookbookFetcher) fetchArchive(ctx context.Context, src CookbookSource, stage, curRev string) (sum, tree string, err error) {
	body, err := f.openArchive(ctx, src)
	if err != nil {
		return "", "", err
	}
	defer body.Close()
	file := filepath.Join(stage, "archive")
	if sum, err = archive.SaveArchive(body, file, f.maxSize(src)); err != nil {
		return "", "", err
	}
	if src.Checksum != "" && sum != src.Checksum {
		return "", "", fmt.Errorf("%w: archive has sha256 %s, want %s", checksum.ErrMismatch, sum, src.Checksum)
	}
	if sum == curRev {
		return sum, "", nil
	}
	tree = filepath.Join(stage, "tree")
	opt := archive.Options{MaxSize: f.maxSize(src), MaxEntries: f.maxEntries(src), Log: f.log()}
	if err := archive.ExtractArchive(file, tree, opt); err != nil {
		if errors.Is(err, archive.ErrArchiveTooLarge) {
			err = fmt.Errorf("%w (raise custom_cookbooks.max_size or max_entries in agent.yaml)", err)
		}
		return "", "", err
	}
	return sum, tree, nil
}
