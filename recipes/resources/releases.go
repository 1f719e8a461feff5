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
	"slices"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/lazyre"
)

// A deploy_to directory, as the deploy resource lays it out (Capistrano's
// and OpsWorks' layout):
//
//	DEPLOY_TO/releases/YYYYMMDDHHMMSS/   one complete tree each (UTC)
//	DEPLOY_TO/current -> releases/…      the live one (a relative symlink)
//	DEPLOY_TO/shared/                    what survives releases (uploads, config)
//
// A release being built holds ReleaseBuildingMarker until it is complete;
// a complete one holds ReleaseInfoFile. current is only ever switched by
// renaming a new symlink over it, so it is never absent nor dangling.

const (
	// ReleaseTimeFormat names releases: their UTC build time to the second.
	ReleaseTimeFormat = "20060102150405"
	// ReleaseInfoFile in a complete release records its revision, source
	// and time.
	ReleaseInfoFile = ".stackagent-release.json"
	// ReleaseBuildingMarker in a release marks it as half-built: the next
	// deploy removes it.
	ReleaseBuildingMarker = ".stackagent-building"
)

var releaseName = lazyre.New(`^[0-9]{14}$`)

var (
	// ErrNoRelease: the release asked for does not exist (or is half-built).
	ErrNoRelease = errors.New("no such release")
	// ErrNoPreviousRelease: rollback asked to go past the oldest kept release.
	ErrNoPreviousRelease = errors.New("no release before the current one")
	// ErrNoCurrent: nothing is deployed (current is missing or dangling).
	ErrNoCurrent = errors.New("no current release")
)

// Release is one complete release of a deploy_to directory.
type Release struct {
	Name     string    `json:"name"`
	Time     time.Time `json:"time"`
	Revision string    `json:"revision,omitempty"`
	Source   string    `json:"source,omitempty"`
	Current  bool      `json:"current"`
}

// releaseInfo is the content of ReleaseInfoFile.
type releaseInfo struct {
	Revision string    `json:"revision"`
	Source   string    `json:"source"`
	Time     time.Time `json:"time"`
}

// ReleaseSet is the releases of one deploy_to directory. Its methods read
// the directory afresh each time; only Switch, Rollback, Prune,
// RemoveHalfBuilt and NewRelease change it.
type ReleaseSet struct {
	dir string
}

// OpenReleaseSet opens deployTo, which must exist (releases/ need not).
func OpenReleaseSet(deployTo string) (*ReleaseSet, error) {
	st, err := os.Stat(deployTo)
	if err != nil {
		return nil, fmt.Errorf("open releases: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open releases: %s is not a directory", deployTo)
	}
	return &ReleaseSet{dir: deployTo}, nil
}

// Dir is the deploy_to directory.
func (s *ReleaseSet) Dir() string { return s.dir }

// Path is the directory of the named release.
func (s *ReleaseSet) Path(name string) string { return filepath.Join(s.dir, "releases", name) }

// SharedDir is deploy_to/shared.
func (s *ReleaseSet) SharedDir() string { return filepath.Join(s.dir, "shared") }

// CurrentLink is deploy_to/current.
func (s *ReleaseSet) CurrentLink() string { return filepath.Join(s.dir, "current") }

// names lists the release directories, oldest first; complete says
// whether each is complete.
func (s *ReleaseSet) names() (names []string, complete map[string]bool) {
	ents, _ := os.ReadDir(filepath.Join(s.dir, "releases"))
	complete = map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() || !releaseName().MatchString(e.Name()) {
			continue
		}
		names = append(names, e.Name())
		complete[e.Name()] = !s.halfBuilt(e.Name())
	}
	slices.Sort(names)
	return names, complete
}

// halfBuilt: the release has the building marker, or is an empty
// directory without its info file (a crash right after it was made).
func (s *ReleaseSet) halfBuilt(name string) bool {
	dir := s.Path(name)
	if _, err := os.Lstat(filepath.Join(dir, ReleaseBuildingMarker)); err == nil {
		return true
	}
	empty, _ := emptyDir(dir)
	return empty
}

// List returns the complete releases, oldest first, current marked.
func (s *ReleaseSet) List() []Release {
	names, complete := s.names()
	cur := s.currentName()
	var out []Release
	for _, n := range names {
		if complete[n] {
			out = append(out, s.release(n, cur))
		}
	}
	return out
}

func (s *ReleaseSet) release(name, cur string) Release {
	r := Release{Name: name, Current: name == cur}
	r.Time, _ = time.Parse(ReleaseTimeFormat, name)
	if b, err := os.ReadFile(filepath.Join(s.Path(name), ReleaseInfoFile)); err == nil {
		var info releaseInfo
		if json.Unmarshal(b, &info) == nil {
			r.Revision, r.Source = info.Revision, info.Source
		}
	}
	return r
}

// currentName is the release current points to, "" when current is
// missing, dangling or points elsewhere.
func (s *ReleaseSet) currentName() string {
	target, err := os.Readlink(s.CurrentLink())
	if err != nil {
		return ""
	}
	name := filepath.Base(target)
	if !releaseName().MatchString(name) || s.halfBuilt(name) {
		return ""
	}
	if st, err := os.Stat(s.Path(name)); err != nil || !st.IsDir() {
		return ""
	}
	return name
}

// Current returns the live release; ok is false when nothing is deployed.
func (s *ReleaseSet) Current() (Release, bool) {
	cur := s.currentName()
	if cur == "" {
		return Release{}, false
	}
	return s.release(cur, cur), true
}

// Previous returns the newest complete release older than current.
func (s *ReleaseSet) Previous() (Release, bool) {
	cur := s.currentName()
	if cur == "" {
		return Release{}, false
	}
	list := s.List()
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Name < cur {
			return list[i], true
		}
	}
	return Release{}, false
}

// RollbackTarget returns the release Rollback(to) would make current,
// changing nothing: to itself ("" for the one before current).
func (s *ReleaseSet) RollbackTarget(to string) (Release, error) {
	cur, ok := s.Current()
	if !ok {
		return Release{}, fmt.Errorf("roll back in %s: %w", s.dir, ErrNoCurrent)
	}
	if to == "" {
		prev, ok := s.Previous()
		if !ok {
			return Release{}, fmt.Errorf("roll back from %s in %s: %w (it is the oldest kept release)", cur.Name, s.dir, ErrNoPreviousRelease)
		}
		return prev, nil
	}
	for _, r := range s.List() {
		if r.Name == to {
			return r, nil
		}
	}
	return Release{}, fmt.Errorf("roll back to %s in %s: %w (releases: %s)", to, s.dir, ErrNoRelease, s.namesString())
}

func (s *ReleaseSet) namesString() string {
	var names []string
	for _, r := range s.List() {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Rollback switches current to the release before it, or to the named
// one, atomically. It returns the release names it switched from and to.
// On error nothing changed.
func (s *ReleaseSet) Rollback(to string) (from, target string, err error) {
	cur, _ := s.Current()
	r, err := s.RollbackTarget(to)
	if err != nil {
		return "", "", err
	}
	if err := s.Switch(r.Name); err != nil {
		return "", "", err
	}
	return cur.Name, r.Name, nil
}

// Switch points current at the named complete release: a new symlink
// current.tmp-<random> -> releases/NAME renamed over current (rename(2)
// is atomic, so current is never absent), then deploy_to is synced.
func (s *ReleaseSet) Switch(name string) error {
	if !releaseName().MatchString(name) || s.halfBuilt(name) {
		return fmt.Errorf("switch current to %s: %w", name, ErrNoRelease)
	}
	if st, err := os.Stat(s.Path(name)); err != nil || !st.IsDir() {
		return fmt.Errorf("switch current to %s: %w", name, ErrNoRelease)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, "current.tmp-"+hex.EncodeToString(rnd[:]))
	if err := os.Symlink(filepath.Join("releases", name), tmp); err != nil {
		return fmt.Errorf("switch current to %s: %w", name, err)
	}
	if err := os.Rename(tmp, s.CurrentLink()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("switch current to %s: %w", name, err)
	}
	return syncDir(s.dir)
}

// NewRelease makes an empty half-built release named after now (UTC, to
// the second) or, when that name is taken or not after every existing
// release, the next free second after the newest, so names sort in build
// order. It returns the name.
func (s *ReleaseSet) NewRelease(now time.Time) (string, error) {
	releases := filepath.Join(s.dir, "releases")
	if err := os.MkdirAll(releases, 0o755); err != nil {
		return "", err
	}
	t := now.UTC().Truncate(time.Second)
	if names, _ := s.names(); len(names) > 0 {
		if last, err := time.Parse(ReleaseTimeFormat, names[len(names)-1]); err == nil && !t.After(last) {
			t = last.Add(time.Second)
		}
	}
	for {
		name := t.Format(ReleaseTimeFormat)
		err := os.Mkdir(filepath.Join(releases, name), 0o755)
		if errors.Is(err, fs.ErrExist) {
			t = t.Add(time.Second)
			continue
		}
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(releases, name, ReleaseBuildingMarker), nil, 0o644); err != nil {
			return "", err
		}
		return name, nil
	}
}

// Finish records the release's revision and source and removes its
// building marker: from then on it is complete.
func (s *ReleaseSet) Finish(name, revision, source string, at time.Time) error {
	b, err := json.MarshalIndent(releaseInfo{Revision: revision, Source: source, Time: at.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	dir := s.Path(name)
	if err := os.WriteFile(filepath.Join(dir, ReleaseInfoFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, ReleaseBuildingMarker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// HalfBuilt lists the releases a failed or interrupted deploy left.
func (s *ReleaseSet) HalfBuilt() []string {
	names, complete := s.names()
	var out []string
	for _, n := range names {
		if !complete[n] {
			out = append(out, n)
		}
	}
	return out
}

// RemoveHalfBuilt removes the half-built releases, any stray
// current.tmp-* link and releases half-removed, and returns the releases
// removed.
func (s *ReleaseSet) RemoveHalfBuilt() ([]string, error) {
	for _, p := range s.leftovers() {
		if err := os.RemoveAll(p); err != nil {
			return nil, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	half := s.HalfBuilt()
	for _, n := range half {
		if err := s.removeRelease(n); err != nil {
			return nil, fmt.Errorf("remove half-built release %s: %w", n, err)
		}
	}
	return half, nil
}

// PruneCandidates lists the complete releases Prune(keep) would remove:
// all but the newest keep, never current nor the release before it.
func (s *ReleaseSet) PruneCandidates(keep int) []string {
	var names []string
	for _, r := range s.List() {
		names = append(names, r.Name)
	}
	return pruneNames(names, s.currentName(), keep)
}

// pruneNames picks, among release names sorted oldest first, those
// beyond the newest keep, sparing cur and the release just before it.
func pruneNames(names []string, cur string, keep int) []string {
	prev := ""
	for _, n := range names {
		if cur != "" && n < cur {
			prev = n
		}
	}
	var out []string
	for i, n := range names {
		if i >= len(names)-keep || n == cur || n == prev {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Prune removes the releases beyond the newest keep (keep ≥ 1), never
// current nor the one before it, and returns the names removed.
func (s *ReleaseSet) Prune(keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune releases: keep %d: want at least 1", keep)
	}
	var done []string
	for _, n := range s.PruneCandidates(keep) {
		if err := s.removeRelease(n); err != nil {
			return done, fmt.Errorf("remove release %s: %w", n, err)
		}
		done = append(done, n)
	}
	return done, nil
}
