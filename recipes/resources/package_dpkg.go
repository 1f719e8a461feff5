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
	pkgs := make(map[string]pkgState, 1024)
	br := bufio.NewReaderSize(r, 64<<10)
	var name, version string
	var status []byte
	var line, start int
	end := func() error {
		if start == 0 {
			return nil
		}
		switch {
		case name == "":
			return fmt.Errorf("%w: %s:%d: stanza without a Package field", errDpkgStatus, file, start)
		case status == nil:
			return fmt.Errorf("%w: %s:%d: package %s has no Status field", errDpkgStatus, file, start, name)
		}
		f := bytes.Fields(status)
		if len(f) != 3 {
			return fmt.Errorf("%w: %s:%d: package %s: Status %q is not three words", errDpkgStatus, file, start, name, status)
		}
		st := pkgs[name]
		switch string(f[2]) {
		case "installed":
			st.Installed = version
		case "config-files":
			st.ConfigLeft = true
		}
		pkgs[name] = st
		name, version, status, start = "", "", nil, 0
		return nil
	}
	for {
		b, err := readLine(br)
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", errDpkgStatus, file, line, err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			if err := end(); err != nil {
				return nil, err
			}
			continue
		}
		if start == 0 {
			start = line
		}
		if b[0] == ' ' || b[0] == '\t' {
			continue // a continuation of a field we do not keep
		}
		field, value, ok := bytes.Cut(b, []byte(":"))
		if !ok {
			return nil, fmt.Errorf("%w: %s:%d: not a field line", errDpkgStatus, file, line)
		}
		value = bytes.TrimSpace(value)
		switch string(field) {
		case "Package":
			name = string(value)
		case "Version":
			version = string(value)
		case "Status":
			status = append([]byte(nil), value...)
		}
	}
	if err := end(); err != nil {
		return nil, err
	}
	return pkgs, nil
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
