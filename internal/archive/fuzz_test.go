package archive

import (
	"testing"

	"github.com/stackagent/stackagent/internal/archive/archivetest"
)

// The fuzz targets extract into box/p1/p2/release next to a victim folder
// and assert the invariant (sandbox.check): nothing created, changed or
// removed outside the release, no release left by a failure, no link
// resolving outside a release that was accepted. Seeds are the audit's
// findings. make fuzz runs each for a while:
// go test -run '^$' -fuzz=FuzzX -fuzzminimizetime=10x ./internal/archive.

// seedEntries are the attacks the seeds hold, as entry lists.
func seedEntries() [][]archivetest.Entry {
	return [][]archivetest.Entry{
		append(archivetest.ChainEscape(3, "wp-content", "victim"), archivetest.Entry{Name: "wp-content/uploads/x", Body: "x"}),
		archivetest.ChainEscape(5, "w", ""),
		{{Name: "a", Link: "."}, {Name: "b", Link: "a/.."}, {Name: "b/evil", Body: "x"}},
		{{Name: "../evil", Body: "x"}},
		{{Name: "/evil", Body: "x"}},
		{{Name: "d/up", Link: "../../.."}},
		{{Name: "x", Link: "y"}, {Name: "y", Link: "x"}},
		{{Name: "f", Body: "x"}, {Name: "h", Hard: "f"}, {Name: "h2", Hard: "../../victim/keep.txt"}},
		{{Name: "wordpress/", Dir: true}, {Name: "wordpress/index.php", Body: "<?php"}, {Name: "wordpress/i", Link: "index.php"}},
	}
}

// opts are the extraction options of a fuzz run: small limits, so that
// bombs stop fast, and dangling links kept, as the deploy resource does.
var fuzzOpts = Options{MaxSize: 1 << 20, MaxEntries: 256, AllowDangling: true}

// FuzzExtractArchive feeds raw bytes (tar.gz and zip seeds, one plain
// tar) to ExtractArchive. Seeds stay small: the engine minimizes each new
// input for up to -fuzzminimizetime (60 s by default), an exec here costs
// milliseconds (a directory tree each), and a plain tar is 1.5 KiB at
// least: run it with -fuzzminimizetime=10x (2,300 execs in 30 s here,
// against 38 with the default).
func FuzzExtractArchive(f *testing.F) {
	for i, es := range seedEntries() {
		formats := []string{"tar.gz", "zip"}
		if i == 0 {
			formats = append(formats, "tar")
		}
		for _, format := range formats {
			if b, err := buildArchive(format, es); err == nil {
				f.Add(b)
			}
		}
	}
	if b, err := archivetest.GzipBomb("zeros", 2<<20); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, archive []byte) {
		s := newSandbox(t, archive)
		s.check(t, ExtractArchive(s.archive, s.release, fuzzOpts))
	})
}

// FuzzExtractEntries builds well-formed archives from fuzzed entry lists,
// names and link targets made of the parts attacks use ("..", ".",
// links, the victim), so the fuzzer explores link chains rather than
// archive headers.
func FuzzExtractEntries(f *testing.F) {
	f.Add(byte(0), []byte{2, 0x10, 0x01, 2, 0x20, 0x13, 2, 0x30, 0x23, 2, 0x45, 0x36, 0, 0x54, 0})
	f.Add(byte(1), []byte{2, 0x10, 0x01, 2, 0x20, 0x13, 0, 0x24, 0x00})
	f.Add(byte(2), []byte{1, 0x40, 0, 0, 0x45, 0, 3, 0x50, 0x45})
	f.Fuzz(func(t *testing.T, format byte, script []byte) {
		es := decodeEntries(script)
		b, err := buildArchive([]string{"tar", "tar.gz", "zip"}[int(format)%3], es)
		if err != nil {
			return // a name the writer refuses
		}
		s := newSandbox(t, b)
		s.check(t, ExtractArchive(s.archive, s.release, fuzzOpts))
	})
}

// parts are the path components decodeEntries draws from.
var parts = []string{".", "..", "a", "b", "l0", "l1", "l2", "wp-content", "uploads", "victim", "keep.txt", ""}

// decodeEntries reads triples (kind, name, target): kind%4 is file, dir,
// symlink or hard link; name and target bytes each pick two components
// (high and low nibble) from parts.
func decodeEntries(script []byte) []archivetest.Entry {
	var es []archivetest.Entry
	for i := 0; i+2 < len(script) && len(es) < 32; i += 3 {
		name, target := pathOf(script[i+1]), pathOf(script[i+2])
		if name == "" {
			continue
		}
		switch script[i] % 4 {
		case 0:
			es = append(es, archivetest.Entry{Name: name, Body: target})
		case 1:
			es = append(es, archivetest.Entry{Name: name, Dir: true})
		case 2:
			es = append(es, archivetest.Entry{Name: name, Link: target})
		case 3:
			es = append(es, archivetest.Entry{Name: name, Hard: target})
		}
	}
	return es
}

func pathOf(b byte) string {
	hi, lo := parts[int(b>>4)%len(parts)], parts[int(b&0xf)%len(parts)]
	switch {
	case hi == "":
		return lo
	case lo == "":
		return hi
	}
	return hi + "/" + lo
}

func buildArchive(format string, es []archivetest.Entry) ([]byte, error) {
	switch format {
	case "tar":
		return archivetest.Tar(es...)
	case "tar.gz":
		return archivetest.TarGz(es...)
	}
	return archivetest.Zip(es...)
}
