package resources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stackagent/stackagent/internal/archive"
	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/checksum"
	"github.com/stackagent/stackagent/recipes"
)

// S3GetAPI is the one S3 call the deploy resource makes; *s3.Client
// satisfies it.
type S3GetAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3GetAPI = (*s3.Client)(nil)

// defaultS3 builds an S3 client from the agent's one AWS configuration
// (internal/awsconfig: the SDK's region, else the instance's, region;
// environment, shared config, instance role); AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL point it elsewhere (path-style then).
func defaultS3(ctx context.Context, region string) (S3GetAPI, error) {
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Instance: region})
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom }), nil
}

// resolvedSource is what Plan learned of a deploy's source without
// changing the host: its revision, and how to put its files in a release.
type resolvedSource struct {
	// revision identifies the content: the git commit, the archive's
	// sha256, or the local directory's tree hash (see treeHash).
	revision string
	// desc names the source for output and the release record.
	desc string
	// fill puts the files into dir, an existing release directory.
	fill func(ctx context.Context, dir string) error
}

// resolveSource inspects the resource's source (read-only; an http or s3
// archive is downloaded to the system's temp directory, removed when
// ctx ends) and returns its revision. known, when not empty, is the
// current release's revision: an archive whose declared checksum equals
// it is not downloaded.
func (p *deployProvider) resolveSource(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, known string) (*resolvedSource, error) {
	repo := r.Str("repository")
	if repo == "" {
		return nil, fmt.Errorf("repository is required for source_type %s", r.Str("source_type"))
	}
	switch typ := r.Str("source_type"); typ {
	case "git":
		return resolveGit(ctx, rc, r)
	case "local":
		dir := rc.Path(repo)
		sum, err := treeHash(dir)
		if err != nil {
			return nil, fmt.Errorf("local source %s: %w", repo, err)
		}
		return &resolvedSource{revision: sum, desc: "local " + repo,
			fill: func(_ context.Context, dst string) error { return copyTree(dir, dst) }}, nil
	case "archive":
		file := rc.Path(repo)
		sum, err := hashFile(file)
		if err != nil {
			return nil, fmt.Errorf("archive %s: %w", repo, err)
		}
		if err := checkSum(r, sum); err != nil {
			return nil, err
		}
		return archiveSource(rc, r, sum, "archive "+repo, file), nil
	case "http", "s3":
		if c := strings.ToLower(r.Str("checksum")); c != "" && c == known {
			return &resolvedSource{revision: c, desc: typ + " " + redactURLString(repo)}, nil
		}
		return p.download(ctx, rc, r, typ, repo)
	default:
		return nil, fmt.Errorf("unknown source_type %q", typ)
	}
}

func checkSum(r *recipes.Resource, sum string) error {
	if want := strings.ToLower(r.Str("checksum")); want != "" && want != sum {
		return fmt.Errorf("%w: %s has sha256 %s, want %s", checksum.ErrMismatch, redactURLString(r.Str("repository")), sum, want)
	}
	return nil
}

func archiveSource(rc *recipes.RunContext, r *recipes.Resource, sum, desc, file string) *resolvedSource {
	return &resolvedSource{revision: sum, desc: desc, fill: func(_ context.Context, dst string) error {
		return extractInto(rc, archiveOptions(rc, r), file, dst)
	}}
}

// download fetches an http(s) or s3 archive into the run's staging
// directory, removed once extracted or when ctx ends (and with the staging
// directory when the run ends), and checks its checksum.
func (p *deployProvider) download(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, typ, repo string) (*resolvedSource, error) {
	body, err := p.open(ctx, rc, r, typ, repo)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	staging, err := rc.StagingDir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(staging, "deploy-")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(tmp, "archive")
	sum, err := archive.SaveArchive(body, file, archiveOptions(rc, r).MaxSize)
	if err == nil {
		err = checkSum(r, sum)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("download %s: %w", redactURLString(repo), limitHint(err))
	}
	context.AfterFunc(ctx, func() { _ = os.RemoveAll(tmp) })
	src := archiveSource(rc, r, sum, typ+" "+redactURLString(repo), file)
	fill := src.fill
	src.fill = func(ctx context.Context, dst string) error {
		defer os.RemoveAll(tmp) // used once: gone whether it extracted or not
		return fill(ctx, dst)
	}
	return src, nil
}

func (p *deployProvider) open(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, typ, repo string) (io.ReadCloser, error) {
	if typ == "s3" {
		bucket, key, err := parseS3(repo)
		if err != nil {
			return nil, err
		}
		c, err := p.s3(ctx, rc.Node.GetString("ec2.region"))
		if err != nil {
			return nil, err
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
		}
		return out.Body, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, repo, nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", redactURLString(repo), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", redactURLString(repo), resp.Status)
	}
	if err := archive.CheckResponse(resp, r.Str("checksum"), checksumHow); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %w", redactURLString(repo), err)
	}
	return resp.Body, nil
}

// parseS3 reads s3://bucket/key or https://bucket.s3[.region].amazonaws.com/key.
func parseS3(s string) (bucket, key string, err error) {
	u, err := url.Parse(s)
	if err == nil {
		p := strings.TrimPrefix(u.Path, "/")
		switch {
		case u.Scheme == "s3":
			bucket, key = u.Host, p
		case strings.HasPrefix(u.Host, "s3.") || strings.HasPrefix(u.Host, "s3-"):
			bucket, key, _ = strings.Cut(p, "/")
		default:
			if i := strings.Index(u.Host, ".s3"); i > 0 {
				bucket, key = u.Host[:i], p
			}
		}
	}
	if bucket == "" || key == "" {
		return "", "", fmt.Errorf("want s3://bucket/key, got %q", redactURLString(s))
	}
	return bucket, key, nil
}

// redactURLString hides a URL's password and query (signatures, tokens).
func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

// extractInto unpacks an archive into dst (a release holding only its
// marker): a single top-level directory (wordpress/ in wordpress.org's
// archives, repo-sha/ in GitHub's) stands for the tree. The build checks
// the links again against dst once they are in place (moving the tree up
// a level changes where a relative link leads).
func extractInto(rc *recipes.RunContext, opt archive.Options, file, dst string) error {
	tree := filepath.Join(dst, ".stackagent-extract")
	opt.Log = rc.Log
	if err := archive.ExtractArchive(file, tree, opt); err != nil {
		return fmt.Errorf("extract: %w", limitHint(err))
	}
	top := tree
	if ents, err := os.ReadDir(tree); err == nil && len(ents) == 1 && ents[0].IsDir() {
		top = filepath.Join(tree, ents[0].Name())
	}
	ents, err := os.ReadDir(top)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(top, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return os.RemoveAll(tree)
}

// treeHash is a local directory's revision: every path (relative,
// sorted) with its type, permissions, size and modification time, or its
// link's target — rsync's quick check, so that deciding "up to date" reads
// no file content (a deploy of an unchanged 80 MB tree costs one walk).
// A content change that keeps both the size and the mtime (a same-size
// rewrite within one tick of the kernel's coarse file clock, or a tool
// that restores mtimes) goes unnoticed: deploy with force_deploy then, or
// from an archive (revision: its sha256).
func treeHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%v", fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + to
		case fi.Mode().IsRegular():
			line += fmt.Sprintf(" %d %d", fi.Size(), fi.ModTime().UnixNano())
		}
		// WalkDir visits in lexical order: the hash is deterministic.
		fmt.Fprintf(h, "%s\x00%s\n", filepath.ToSlash(rel), line)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// parallel runs f(0..n-1) on a few goroutines and returns the first error.
func parallel(n int, f func(i int) error) error {
	workers := min(max(runtime.NumCPU(), 2), 16)
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// copyTree copies src's content into dst (which exists) as cp -a would,
// but for owners and times: directories, files with their permissions
// (copied in parallel, with copy_file_range where the kernel has it) and
// symlinks as they are.
func copyTree(src, dst string) error {
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode
	var from, to []string
	var modes []fs.FileMode
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
			if fi.Mode().Perm() != 0o755 {
				dirs = append(dirs, dirMode{target, fi.Mode()})
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(to, target)
		case fi.Mode().IsRegular():
			from, to, modes = append(from, p), append(to, target), append(modes, fi.Mode())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := parallel(len(from), func(i int) error { return copyFile(from[i], to[i], modes[i]) }); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode&permBits); err != nil {
			return err
		}
	}
	return nil
}

// permBits are the mode bits chmod sets.
const permBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 || mode.Perm()&0o022 != 0 {
		return os.Chmod(dst, mode&permBits) // the umask dropped these
	}
	return nil
}
