// Package archive holds the pure helpers that fetching code shares: saving a
// download with its sha256 under a size limit, and extracting a tar (plain,
// gzip, bzip2) or zip archive so that no entry lands or points outside the
// destination. The custom cookbooks fetcher (lifecycle) and the deploy
// resource (recipes/resources) use them.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
)

var (
	// ErrArchiveTooLarge: the archive or its content is over the limit.
	ErrArchiveTooLarge = errors.New("archive too large")
	// ErrUnsafeArchive: an entry or symlink would land or point outside
	// the destination.
	ErrUnsafeArchive = errors.New("unsafe path")
	// ErrUnknownArchive: the file is neither gzip'd tar, tar, bzip2'd tar nor zip.
	ErrUnknownArchive = errors.New("unknown archive format (want .tar.gz, .tgz, .tar, .tar.bz2 or .zip)")
)

// Default limits of an extraction, each raised per source (the deploy
// resource's max_archive_size and max_archive_entries, custom_cookbooks'
// max_size and max_entries in agent.yaml).
const (
	// DefaultMaxSize bounds the bytes an archive's files hold
	// uncompressed, all together.
	DefaultMaxSize int64 = 1 << 30
	// DefaultMaxEntries bounds the number of entries, against inode bombs.
	DefaultMaxEntries = 100_000
)

// Options bound and shape one extraction.
type Options struct {
	// MaxSize bounds the uncompressed bytes written, counted while
	// streaming; 0: DefaultMaxSize.
	MaxSize int64
	// MaxEntries bounds the entries (files, directories, links); 0:
	// DefaultMaxEntries.
	MaxEntries int
	// AllowDangling keeps symlinks that lead nowhere (inside the tree);
	// without it they are refused like links that leave it.
	AllowDangling bool
	// Log receives skipped entries at debug level; nil: discard.
	Log *slog.Logger
}

func (o Options) maxSize() int64 {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

func (o Options) maxEntries() int {
	if o.MaxEntries > 0 {
		return o.MaxEntries
	}
	return DefaultMaxEntries
}

// SaveArchive copies r into file (created, 0600), at most max bytes, and
// returns its sha256 in hex. On error file is removed.
func SaveArchive(r io.Reader, file string, max int64) (sum string, err error) {
	w, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer func() {
		w.Close()
		if err != nil {
			_ = os.Remove(file)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, max+1))
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	if n > max {
		return "", fmt.Errorf("%w: more than %d bytes", ErrArchiveTooLarge, max)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ExtractArchive unpacks file, a tar (plain, gzip or bzip2) or zip found
// by its magic bytes, into dir, which it creates (its parent must exist).
// Every entry is written through an os.Root on dir, so none lands
// outside it; names that are absolute or hold "..", and symlinks that are
// absolute or resolve outside dir (chains included, checked by CheckLinks
// once the tree is complete) are refused with ErrUnsafeArchive. More than
// opt's bytes or entries, counted while streaming, is ErrArchiveTooLarge.
// Entries of other types (devices, fifos) are skipped and logged at debug
// level. On any error dir is removed: a failed extraction leaves nothing.
func ExtractArchive(file, dir string, opt Options) (err error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	x := &extractor{root: root, max: opt.maxSize(), maxEntries: opt.maxEntries(), log: opt.Log}
	if err := x.extract(fh); err != nil {
		return err
	}
	return CheckLinks(dir, opt.AllowDangling)
}

// extract picks the format by its magic bytes and unpacks fh.
func (x *extractor) extract(fh *os.File) error {
	magic := make([]byte, 512)
	n, _ := io.ReadFull(fh, magic)
	magic = magic[:n]
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		return x.tar(zr)
	case bytes.HasPrefix(magic, []byte("BZh")):
		return x.tar(bzip2.NewReader(fh))
	case len(magic) >= 262 && string(magic[257:262]) == "ustar":
		return x.tar(fh)
	case bytes.HasPrefix(magic, []byte("PK\x03\x04")), bytes.HasPrefix(magic, []byte("PK\x05\x06")):
		st, err := fh.Stat()
		if err != nil {
			return err
		}
		zr, err := zip.NewReader(fh, st.Size())
		if err != nil {
			return fmt.Errorf("zip: %w", err)
		}
		return x.zip(zr)
	}
	return ErrUnknownArchive
}

// extractor writes archive entries below root only, counting bytes.
type extractor struct {
	root       *os.Root
	max        int64
	written    int64
	maxEntries int
	entries    int
	log        *slog.Logger
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			err = x.dir(h.Name)
		case tar.TypeReg:
			err = x.file(h.Name, mode, tr)
		case tar.TypeSymlink:
			err = x.symlink(h.Name, h.Linkname)
		case tar.TypeLink:
			err = x.link(h.Name, h.Linkname)
		case tar.TypeXGlobalHeader:
		default:
			x.log.Debug("archive entry skipped", "name", h.Name, "type", string(h.Typeflag))
		}
		if err != nil {
			return err
		}
	}
}

func (x *extractor) zip(zr *zip.Reader) error {
	// The directory's sizes and count can lie: both are counted again
	// while streaming; these refuse an honest bomb before any write.
	if len(zr.File) > x.maxEntries {
		return fmt.Errorf("%w: %d entries, more than %d", ErrArchiveTooLarge, len(zr.File), x.maxEntries)
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
	}
	if total > uint64(x.max) {
		return fmt.Errorf("%w: %d bytes uncompressed, more than %d", ErrArchiveTooLarge, total, x.max)
	}
	for _, zf := range zr.File {
		if err := x.zipEntry(zf); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) zipEntry(zf *zip.File) error {
	mode := zf.Mode()
	if mode.IsDir() || strings.HasSuffix(zf.Name, "/") {
		return x.dir(zf.Name)
	}
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("zip %s: %w", zf.Name, err)
	}
	defer rc.Close()
	if mode&fs.ModeSymlink != 0 {
		target, err := io.ReadAll(io.LimitReader(rc, 4096))
		if err != nil {
			return fmt.Errorf("zip %s: %w", zf.Name, err)
		}
		return x.symlink(zf.Name, string(target))
	}
	if !mode.IsRegular() {
		x.log.Debug("archive entry skipped", "name", zf.Name, "mode", mode.String())
		return nil
	}
	return x.file(zf.Name, mode, rc)
}

// name checks an entry's name: relative, no ".." component, not empty.
func (x *extractor) name(raw string) (string, error) {
	x.entries++
	if x.entries > x.maxEntries {
		return "", fmt.Errorf("%w: more than %d entries", ErrArchiveTooLarge, x.maxEntries)
	}
	if strings.HasPrefix(raw, "/") || strings.Contains(raw, `\`) {
		return "", fmt.Errorf("entry %q: %w (absolute or backslashed)", raw, ErrUnsafeArchive)
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q: %w (..)", raw, ErrUnsafeArchive)
		}
	}
	clean := path.Clean(raw)
	if clean == "." {
		return "", nil
	}
	return filepath.FromSlash(clean), nil
}

// dir makes a directory entry (0755).
func (x *extractor) dir(raw string) error {
	name, err := x.name(raw)
	if err != nil || name == "" {
		return err
	}
	return x.root.MkdirAll(name, 0o755)
}

func (x *extractor) file(raw string, mode fs.FileMode, r io.Reader) error {
	name, err := x.name(raw)
	if err != nil || name == "" {
		return err
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	w, err := x.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm()|0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, io.LimitReader(r, x.max-x.written+1))
	x.written += n
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("extract %s: %w", raw, err)
	}
	if x.written > x.max {
		return fmt.Errorf("%w: more than %d bytes uncompressed", ErrArchiveTooLarge, x.max)
	}
	return nil
}

// symlink refuses absolute targets and targets that leave the tree by
// their path alone; chains through other links are refused by CheckLinks
// once the tree is complete.
func (x *extractor) symlink(raw, target string) error {
	name, err := x.name(raw)
	if err != nil || name == "" {
		return err
	}
	resolved := path.Join(path.Dir(filepath.ToSlash(name)), target)
	if target == "" || path.IsAbs(target) || resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink %q -> %q: %w (points outside)", raw, target, ErrUnsafeArchive)
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	return x.root.Symlink(target, name)
}

func (x *extractor) link(raw, target string) error {
	name, err := x.name(raw)
	if err != nil || name == "" {
		return err
	}
	old, err := x.name(target)
	if err != nil || old == "" {
		return fmt.Errorf("hard link %q -> %q: %w", raw, target, ErrUnsafeArchive)
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	return x.root.Link(old, name)
}

// prepare makes name's parent and removes an earlier entry of that name.
func (x *extractor) prepare(name string) error {
	if dir := filepath.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := x.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
