package resources

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// Removing releases and rolling back, so that a crash at any point leaves
// nothing that looks complete and is not, and a rollback run again for
// the same event (after a crash between its switch and its journal
// entry) does not roll back a second time.

// removingPrefix names a release on its way out: renamed out of the
// release names first (one rename), then removed, so a crash mid-removal
// never leaves a partial tree that reads as a complete release.
const removingPrefix = ".removing-"

// RollbackRecordFile in deploy_to records the last rollback made for an
// event: its id, the release current was and the one it became.
const RollbackRecordFile = ".stackagent-rollback.json"

// removeRelease takes a release out of the set atomically, then deletes
// its files.
func (s *ReleaseSet) removeRelease(name string) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	gone := filepath.Join(s.dir, "releases", removingPrefix+name+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Rename(s.Path(name), gone); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := syncDir(filepath.Join(s.dir, "releases")); err != nil {
		return err
	}
	return os.RemoveAll(gone)
}

// leftovers lists what a crash left behind outside the release names:
// stray current.tmp-* links and releases half-removed.
func (s *ReleaseSet) leftovers() []string {
	links, _ := filepath.Glob(filepath.Join(s.dir, "current.tmp-*"))
	gone, _ := filepath.Glob(filepath.Join(s.dir, "releases", removingPrefix+"*"))
	return append(links, gone...)
}

// rollbackRecord is the content of RollbackRecordFile.
type rollbackRecord struct {
	Event string `json:"event"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// RollbackFor is RollbackTarget for a rollback asked by an event: when
// that event already rolled back (from is current's name then, or the
// switch did not happen yet), the same target as the first time; done
// says the switch was made. An empty event is RollbackTarget's.
func (s *ReleaseSet) RollbackFor(event, to string) (target Release, done bool, err error) {
	if event != "" {
		var rec rollbackRecord
		if b, err := os.ReadFile(filepath.Join(s.dir, RollbackRecordFile)); err == nil && json.Unmarshal(b, &rec) == nil && rec.Event == event {
			cur, _ := s.Current()
			for _, r := range s.List() {
				if r.Name == rec.To && (cur.Name == rec.To || cur.Name == rec.From) {
					return r, cur.Name == rec.To, nil
				}
			}
		}
	}
	target, err = s.RollbackTarget(to)
	return target, false, err
}

// recordRollback writes the rollback record (atomically) before the
// switch it describes.
func (s *ReleaseSet) recordRollback(event, from, to string) error {
	b, _ := json.Marshal(rollbackRecord{Event: event, From: from, To: to})
	if err := atomicfile.WriteFile(filepath.Join(s.dir, RollbackRecordFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record rollback: %w", err)
	}
	return nil
}
