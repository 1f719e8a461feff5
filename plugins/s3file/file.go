package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sys/unix"

	"github.com/stackagent/stackagent/proto/sdk"
)

// etagAttr records the ETag of the object a file was downloaded from.
const etagAttr = "user.stackagent.s3_etag"

// localState describes the file at path: exists, mode, sha256, md5 and
// the recorded ETag.
func localState(path string) (sdk.State, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sdk.State{"exists": "false"}, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s exists and is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sh, m5 := sha256.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(sh, m5), f); err != nil {
		return nil, err
	}
	st := sdk.State{"exists": "true", "mode": fmt.Sprintf("%04o", fi.Mode().Perm()),
		"sha256": hex.EncodeToString(sh.Sum(nil)), "md5": hex.EncodeToString(m5.Sum(nil))}
	buf := make([]byte, 256)
	if n, err := unix.Getxattr(path, etagAttr, buf); err == nil {
		st["recorded_etag"] = string(buf[:n])
	}
	return st, nil
}

// download writes the object to a temporary file next to path, checks it
// and renames it over path.
func download(ctx context.Context, client *s3.Client, r *sdk.Resource, path string, mode os.FileMode) error {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.Str("bucket")), Key: aws.String(r.Str("key"))})
	if err != nil {
		return fmt.Errorf("get %s: %w", objectURL(r), err)
	}
	defer out.Body.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".s3file-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	sh, m5 := sha256.New(), md5.New()
	_, err = io.Copy(io.MultiWriter(tmp, sh, m5), out.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", objectURL(r), err)
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	sum := hex.EncodeToString(sh.Sum(nil))
	if want := strings.TrimPrefix(strings.ToLower(r.Str("checksum")), "sha256:"); want != "" && want != sum {
		return fmt.Errorf("download %s: sha256 %s, want %s", objectURL(r), sum, want)
	}
	if etag != "" && !strings.Contains(etag, "-") && etag != hex.EncodeToString(m5.Sum(nil)) {
		return fmt.Errorf("download %s: content does not match ETag %s (truncated?)", objectURL(r), etag)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	_ = unix.Setxattr(tmp.Name(), etagAttr, []byte(etag), 0) // best effort: only multipart ETags need it
	return os.Rename(tmp.Name(), path)
}
