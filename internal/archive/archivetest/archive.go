// Package archivetest builds archives for tests: tar, tar.gz and zip from a
// list of entries, attacks included (links, "..", bombs).
package archivetest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// Entry is one archive member: a file (Body), a directory (Dir), a
// symlink (Link) or a hard link (Hard, the name it links to).
type Entry struct {
	Name, Body, Link, Hard string
	Dir                    bool
}

// Tar returns entries as a plain tar.
func Tar(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeTar(&buf, entries); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TarGz returns entries as a gzip'd tar.
func TarGz(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if err := writeTar(gz, entries); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeTar(w io.Writer, entries []Entry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.Body))}
		switch {
		case e.Dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case e.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		case e.Hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.Hard, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar %q: %w", e.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// Zip returns entries as a zip (deflated); hard links become files.
func Zip(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		body := e.Body
		switch {
		case e.Dir:
			h.SetMode(0o755 | os.ModeDir)
		case e.Link != "":
			h.SetMode(0o777 | os.ModeSymlink)
			body = e.Link
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip %q: %w", e.Name, err)
		}
		if !e.Dir {
			if _, err := io.WriteString(w, body); err != nil {
				return nil, err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// GzipBomb returns a tar.gz of one file of size zero bytes: about a
// thousandth of size compressed.
func GzipBomb(name string, size int64) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: size}); err != nil {
		return nil, err
	}
	if _, err := io.CopyN(tw, zeros{}, size); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// ChainEscape is the audit's attack: links that each stay inside by their
// own text but, followed one through the other, climb depth levels above
// the root; then via -> the top of the climb plus escapeTo. With
// shared_dirs naming via/<x>, a linker that follows links reaches
// <escapeTo>/<x> outside the release.
func ChainEscape(depth int, via, escapeTo string) []Entry {
	es := []Entry{{Name: "l0", Link: "."}}
	for i := 1; i <= depth; i++ {
		es = append(es, Entry{Name: fmt.Sprintf("l%d", i), Link: fmt.Sprintf("l%d/..", i-1)})
	}
	return append(es, Entry{Name: via, Link: fmt.Sprintf("l%d/%s", depth, escapeTo)})
}
