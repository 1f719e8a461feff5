package resources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// dpkgDB reads dpkg's database, /var/lib/dpkg/status, in the agent's
// process instead of running dpkg-query (23 ms and a fork per package
// resource of a no-op converge). What it read is kept while the file's
// size, modification time and inode stay the same: dpkg replaces the file
// by renaming a new one over it, so any change it makes is seen. While
// dpkg has unmerged journal entries (DIR/updates/NNNN, an interrupted
// or running dpkg), the status file alone is not the truth, and the
// caller asks dpkg-query instead; so it does when the file cannot be
// read or parsed (see errDpkgStatus).
type dpkgDB struct {
	dir string // /var/lib/dpkg

	mu   sync.Mutex
	key  fileKey
	pkgs map[string]pkgState
}

// hostDpkg is this host's dpkg database. The cache it keeps is of a
// host file, checked against the file on every use.
var hostDpkg = &dpkgDB{dir: "/var/lib/dpkg"}

// fileKey identifies one version of a file.
type fileKey struct {
	size, mtime int64
	ino, dev    uint64
}

// Limits on what the status file may hold: a longer line or a larger
// file is not dpkg's, and the read gives up (dpkg-query takes over).
const (
	dpkgMaxLine = 1 << 20
	dpkgMaxSize = 256 << 20
)

// errDpkgStatus wraps every reason the in-process read gives up.
var errDpkgStatus = errors.New("dpkg status not usable in-process")

// lookup returns dpkg's state of each named package (a name may carry
// ":arch"; the state is the package's, installed if any architecture
// is), keyed by the name without architecture.
func (db *dpkgDB) lookup(names []string) (map[string]pkgState, error) {
	pkgs, err := db.read()
	if err != nil {
		return nil, err
	}
	out := make(map[string]pkgState, len(names))
	for _, n := range names {
		base, _, _ := strings.Cut(n, ":")
		out[base] = pkgs[base]
	}
	return out, nil
}

func (db *dpkgDB) read() (map[string]pkgState, error) {
	if err := db.checkJournal(); err != nil {
		return nil, err
	}
	file := filepath.Join(db.dir, "status")
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDpkgStatus, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDpkgStatus, err)
	}
	key := fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		key.ino, key.dev = st.Ino, uint64(st.Dev)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pkgs != nil && db.key == key {
		return db.pkgs, nil
	}
	if fi.Size() > dpkgMaxSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, more than %d", errDpkgStatus, file, fi.Size(), dpkgMaxSize)
	}
	pkgs, err := parseDpkgStatus(f, file)
	if err != nil {
		return nil, err
	}
	db.key, db.pkgs = key, pkgs
	return pkgs, nil
}

// checkJournal fails while dpkg's updates directory holds journal
// entries not yet merged into the status file.
func (db *dpkgDB) checkJournal() error {
	dir := filepath.Join(db.dir, "updates")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", errDpkgStatus, err)
	}
	for _, e := range ents {
		if strings.Trim(e.Name(), "0123456789") == "" {
			return fmt.Errorf("%w: %s holds unmerged entries (dpkg is running or was interrupted)", errDpkgStatus, dir)
		}
	}
	return nil
}

// parseDpkgStatus reads a status file: stanzas of "Field: value" lines
// (continuation lines start with a space) separated by blank lines. Of
// each it keeps Package, Status and Version. A stanza without Package or
// Status, a Status that is not three words, or a line longer than
// dpkgMaxLine is an error naming the file and line.
func parseDpkgStatus(r io.Reader, file string) (map[string]pkgState, error) {
	p := &dpkgParser{file: file, pkgs: make(map[string]pkgState, 1024)}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := readLine(br)
		if err == io.EOF {
			break
		}
		p.line++
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", errDpkgStatus, file, p.line, err)
		}
		if err := p.feed(b); err != nil {
			return nil, err
		}
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return p.pkgs, nil
}

// dpkgParser is the state of parseDpkgStatus: the packages so far and
// the fields of the stanza being read (start is its first line, 0
// between stanzas).
type dpkgParser struct {
	file          string
	pkgs          map[string]pkgState
	name, version string
	status        []byte
	line, start   int
}

// feed takes one line of the file.
func (p *dpkgParser) feed(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return p.end()
	}
	if p.start == 0 {
		p.start = p.line
	}
	if b[0] == ' ' || b[0] == '\t' {
		return nil // a continuation of a field we do not keep
	}
	field, value, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return fmt.Errorf("%w: %s:%d: not a field line", errDpkgStatus, p.file, p.line)
	}
	value = bytes.TrimSpace(value)
	switch string(field) {
	case "Package":
		p.name = string(value)
	case "Version":
		p.version = string(value)
	case "Status":
		p.status = append([]byte(nil), value...)
	}
	return nil
}

// end closes the stanza being read, if any, and records its package.
func (p *dpkgParser) end() error {
	if p.start == 0 {
		return nil
	}
	switch {
	case p.name == "":
		return fmt.Errorf("%w: %s:%d: stanza without a Package field", errDpkgStatus, p.file, p.start)
	case p.status == nil:
		return fmt.Errorf("%w: %s:%d: package %s has no Status field", errDpkgStatus, p.file, p.start, p.name)
	}
	f := bytes.Fields(p.status)
	if len(f) != 3 {
		return fmt.Errorf("%w: %s:%d: package %s: Status %q is not three words", errDpkgStatus, p.file, p.start, p.name, p.status)
	}
	st := p.pkgs[p.name]
	switch string(f[2]) {
	case "installed":
		st.Installed = p.version
	case "config-files":
		st.ConfigLeft = true
	}
	p.pkgs[p.name] = st
	p.name, p.version, p.status, p.start = "", "", nil, 0
	return nil
}

// readLine returns the next line without its newline, refusing one
// longer than dpkgMaxLine. The slice is valid until the next call.
func readLine(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull && len(long) <= dpkgMaxLine {
			b, err = br.ReadSlice('\n')
			long = append(long, b...)
		}
		if len(long) > dpkgMaxLine {
			return nil, fmt.Errorf("line longer than %d bytes", dpkgMaxLine)
		}
		b = long
	}
	if err == io.EOF && len(b) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b, []byte("\n")), nil
}
