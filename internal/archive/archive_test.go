package archive

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackagent/stackagent/internal/archive/archivetest"
)

// sandbox is a directory holding an archive, a victim folder and the
// parent of the release an archive is extracted into:
//
//	box/archive  box/victim/keep.txt  box/p1/p2/release
type sandbox struct {
	box, archive, release string
}

func newSandbox(t testing.TB, archive []byte) sandbox {
	t.Helper()
	box := t.TempDir()
	s := sandbox{box: box, archive: filepath.Join(box, "archive"), release: filepath.Join(box, "p1/p2/release")}
	for _, d := range []string{"victim", "p1/p2"} {
		if err := os.MkdirAll(filepath.Join(box, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(box, "victim/keep.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.archive, archive, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// check asserts the invariant of an extraction that returned err:
// nothing was created, changed or removed outside the release; a failed
// extraction left no release; a successful one holds no link that
// resolves outside it.
func (s sandbox) check(t testing.TB, err error) {
	t.Helper()
	var outside []string
	werr := filepath.WalkDir(s.box, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.release {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(s.box, p)
		outside = append(outside, filepath.ToSlash(rel))
		return nil
	})
	if werr != nil {
		t.Fatal(werr)
	}
	want := ". archive p1 p1/p2 victim victim/keep.txt"
	if got := strings.Join(outside, " "); got != want {
		t.Fatalf("outside the release after extraction (err %v): %s, want %s", err, got, want)
	}
	if b, rerr := os.ReadFile(filepath.Join(s.box, "victim/keep.txt")); rerr != nil || string(b) != "keep" {
		t.Fatalf("victim/keep.txt changed: %q, %v", b, rerr)
	}
	if err != nil {
		if _, serr := os.Lstat(s.release); !errors.Is(serr, fs.ErrNotExist) {
			t.Fatalf("failed extraction (%v) left %s behind", err, s.release)
		}
		return
	}
	if cerr := CheckLinks(s.release, true); cerr != nil {
		t.Fatalf("extraction succeeded but left a leaving link: %v", cerr)
	}
}

func build(t testing.TB, format string, es ...archivetest.Entry) []byte {
	t.Helper()
	var b []byte
	var err error
	switch format {
	case "tar":
		b, err = archivetest.Tar(es...)
	case "tar.gz":
		b, err = archivetest.TarGz(es...)
	default:
		b, err = archivetest.Zip(es...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractArchiveRefusals(t *testing.T) {
	t.Parallel()
	index := archivetest.Entry{Name: "index.php", Body: "<?php"}
	tests := []struct {
		name    string
		entries []archivetest.Entry
		opt     Options
		want    error
	}{
		{"chain to the victim", append(archivetest.ChainEscape(3, "wp-content", "victim"), index), Options{AllowDangling: true}, ErrUnsafeArchive},
		{"chain, write through it", append(archivetest.ChainEscape(3, "wp-content", "victim"), archivetest.Entry{Name: "wp-content/evil", Body: "x"}), Options{}, nil},
		{"dot-dot name", []archivetest.Entry{index, {Name: "a/../../evil", Body: "x"}}, Options{}, ErrUnsafeArchive},
		{"absolute name", []archivetest.Entry{{Name: "/evil", Body: "x"}}, Options{}, ErrUnsafeArchive},
		{"absolute link", []archivetest.Entry{{Name: "passwd", Link: "/etc/passwd"}}, Options{AllowDangling: true}, ErrUnsafeArchive},
		{"dangling", []archivetest.Entry{{Name: "x", Link: "nothing"}}, Options{}, ErrUnsafeArchive},
		{"loop", []archivetest.Entry{{Name: "x", Link: "y"}, {Name: "y", Link: "x"}}, Options{AllowDangling: true}, ErrUnsafeArchive},
		{"too many entries", []archivetest.Entry{{Name: "a/", Dir: true}, {Name: "a/1"}, {Name: "a/2"}, {Name: "a/3"}}, Options{MaxEntries: 3}, ErrArchiveTooLarge},
		{"too large", []archivetest.Entry{{Name: "big", Body: strings.Repeat("x", 5000)}}, Options{MaxSize: 4096}, ErrArchiveTooLarge},
	}
	for _, format := range []string{"tar", "tar.gz", "zip"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s := newSandbox(t, build(t, format, tt.entries...))
				err := ExtractArchive(s.archive, s.release, tt.opt)
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				s.check(t, err)
			})
		}
	}
}

func TestExtractArchiveKeepsInsideLinks(t *testing.T) {
	t.Parallel()
	es := []archivetest.Entry{
		{Name: "wordpress/", Dir: true},
		{Name: "wordpress/wp-content/themes/t/style.css", Body: "body{}"},
		{Name: "wordpress/style.css", Link: "wp-content/themes/t/style.css"},
		{Name: "wordpress/wp-content/themes/current", Link: "./t"},
		{Name: "wordpress/hard.css", Hard: "wordpress/wp-content/themes/t/style.css"},
	}
	for _, format := range []string{"tar", "tar.gz", "zip"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, build(t, format, es...))
			err := ExtractArchive(s.archive, s.release, Options{})
			s.check(t, err)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(s.release, "wordpress/wp-content/themes/current/style.css"))
			if err != nil || string(b) != "body{}" {
				t.Fatalf("style.css through the link = %q, %v", b, err)
			}
		})
	}
}

// The audit's bomb: 23 MB of gzip that wrote 4 GiB. Counted while
// streaming, it stops at the limit (here 8 MiB of a 64 MiB file).
func TestExtractArchiveBombStopsAtLimit(t *testing.T) {
	t.Parallel()
	bomb, err := archivetest.GzipBomb("zeros", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := newSandbox(t, bomb)
	err = ExtractArchive(s.archive, s.release, Options{MaxSize: 8 << 20})
	if !errors.Is(err, ErrArchiveTooLarge) || !strings.Contains(err.Error(), "more than 8388608 bytes") {
		t.Fatalf("err = %v, want ErrArchiveTooLarge naming the limit", err)
	}
	s.check(t, err)
}

func TestSaveArchiveRemovesPartialDownload(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "archive")
	if _, err := SaveArchive(strings.NewReader(strings.Repeat("x", 100)), file, 10); !errors.Is(err, ErrArchiveTooLarge) {
		t.Fatalf("err = %v, want ErrArchiveTooLarge", err)
	}
	if _, err := os.Lstat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("partial download left behind: %v", err)
	}
}

func TestRequireChecksum(t *testing.T) {
	t.Parallel()
	how := "set checksum"
	if err := RequireChecksum("HTTP://h/a.tgz", "", how); !errors.Is(err, ErrChecksumRequired) || !strings.Contains(err.Error(), how) {
		t.Fatalf("plain http without checksum: %v", err)
	}
	for _, ok := range [][2]string{{"http://h/a.tgz", "abc"}, {"https://h/a.tgz", ""}, {"s3://b/k", ""}, {"/srv/a.tgz", ""}} {
		if err := RequireChecksum(ok[0], ok[1], how); err != nil {
			t.Fatalf("%s: %v", ok[0], err)
		}
	}
}
