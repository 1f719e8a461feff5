package e2e

// The disk-full suite: the daemon's state dir and the app's deploy_to are
// small tmpfs mounts, filled while the agent writes a release, its
// in-progress record, its journal and its reports. Each time: a clear
// error, the previous state intact (journal, current, previous releases),
// and once space returns (the filler removed, the daemon going on or
// restarted) nothing runs twice, a duplicate delivery included.

import (
	"github.com/stackagent/stackagent/lifecycle"

	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackagent/stackagent/recipes/resources"
)

// mountTmpfs mounts a tmpfs of size (mount(8)'s size=, e.g. "4m") on dir,
// unmounted when t ends (lazily if it is busy).
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v (detached instead)", dir, err)
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
}

// fill writes a file in dir's file system until no more than leave bytes
// are free (ENOSPC for leave 0) and returns its path.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, ".filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail)*st.Bsize - leave
	chunk := make([]byte, 64<<10)
	for n > 0 {
		w := min(n, int64(len(chunk)))
		if _, err := f.Write(chunk[:w]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
		n -= w
	}
	if leave == 0 {
		for {
			if _, err := f.Write(chunk[:4096]); err != nil {
				break
			}
		}
	}
	return path
}

// starts counts the runs of an event in the marker file.
func starts(t *testing.T, marker, event string) int {
	n := 0
	for _, l := range readMarker(t, marker) {
		if l.event == event && l.what == "start" {
			n++
		}
	}
	return n
}

// diskRun is one disk-full suite run.
type diskRun struct {
	d       *chaosDaemon
	h       chaosHost
	sources []chaosSource
	seq     int
	ids     map[string]string // event id by name
}

// send drops an event (id chaos-NAME) and returns its name.
func (r *diskRun) send(t *testing.T, kind string, attrs map[string]any) string {
	t.Helper()
	return r.sendPadded(t, kind, attrs, 0)
}

// sendPadded is send with pad more bytes of event id (chaos-NAME-ppp…).
func (r *diskRun) sendPadded(t *testing.T, kind string, attrs map[string]any, pad int) string {
	t.Helper()
	r.seq++
	name := fmt.Sprintf("%02d-%s", r.seq, kind)
	id := "chaos-" + name
	if pad > 0 {
		id += "-" + strings.Repeat("p", pad-1)
	}
	r.ids[name] = id
	ev := map[string]any{"id": id, "type": kind, "attributes": map[string]any{"chaos": attrs}}
	if kind == "deploy" {
		ev["app"], ev["command"] = "chaos", "deploy"
	}
	r.d.drop(t, name, ev)
	return name
}

func (r *diskRun) deploy(t *testing.T, v int) string {
	return r.send(t, "deploy", map[string]any{"repository": r.sources[v].archive})
}

// restart stops the daemon gracefully and starts it again.
func (r *diskRun) restart(t *testing.T) {
	r.d.stop(t)
	r.d.start(t)
}

// redeliver drops the event of name again under another file name (a
// duplicate delivery) and waits for it to be set aside.
func (r *diskRun) redeliver(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.d.inbox, "processed", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dup := name + "-again"
	if err := os.WriteFile(filepath.Join(r.d.inbox, "."+dup), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(r.d.inbox, "."+dup), filepath.Join(r.d.inbox, dup+".json")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(r.d.inbox, "processed", dup+".json")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("duplicate of %s not set aside after 1m\n%s", name, r.d.log())
		}
	}
}

// once checks that event ran exactly once, after a restart and a
// duplicate delivery too.
func (r *diskRun) once(t *testing.T, name string) {
	t.Helper()
	r.restart(t)
	r.redeliver(t, name)
	if n := starts(t, r.h.marker, r.ids[name]); n != 1 {
		t.Errorf("event %s ran %d times, want once\n%s", name, n, r.d.log())
	}
}

// journalLine is the length of the journal's line for an event id
// (lifecycle.JournalEntry as JSON; its time is 20 to 30 bytes).
func journalLine(id string, at int) int64 {
	return int64(len(`{"id":"","sha256":"","status":"success","at":""}`+"\n") + 64 + len(id) + at)
}

// maxPaddedID is the longest id the journal keeps whole
// (lifecycle.IDKeep): a line's length follows its id up to there.
const maxPaddedID = lifecycle.IDKeep

// crossPage sends a configure event with attrs whose journal line will
// start in the journal's last page and end past it (so, on a full disk,
// its append needs a page it cannot have), after quick events that bring
// the journal near a page end. Journal lines are bounded (ids up to 128
// bytes kept whole, longer ones by digest), so the quick events' ids are
// sized to land the journal's end within one line of a page end. It
// returns the event's name.
func (r *diskRun) crossPage(t *testing.T, attrs map[string]any) string {
	t.Helper()
	journal := filepath.Join(r.d.stateDir, "journal.jsonl")
	for {
		st, err := os.Stat(journal)
		if err != nil {
			t.Fatal(err)
		}
		gap := (st.Size()/4096+1)*4096 - st.Size()
		next := fmt.Sprintf("chaos-%02d-configure", r.seq+1)
		base := int64(len(next))
		// The line must run 32 bytes past the page end at its shortest
		// ("at" is 20-35 bytes).
		if pad := gap + 32 - journalLine(next, 20); pad+base <= maxPaddedID && gap > 0 {
			return r.sendPadded(t, "configure", attrs, int(max(pad, 2)))
		}
		// A quick event that leaves a gap the next line can cross: its
		// line takes gap - (a long line - 100) bytes, within the id limit.
		want := gap - (journalLine(next, 35) + (maxPaddedID - base) - 100)
		pad := min(max(want-journalLine(next, 30), 2), maxPaddedID-base)
		quick := r.sendPadded(t, "configure", map[string]any{"fill": ""}, int(pad))
		mustSucceed(t, quick, r.d.wait(t, quick))
	}
}

func TestDiskFull(t *testing.T) {
	requireE2E(t, "tar", "dd")
	t.Parallel()
	dir := t.TempDir()
	state, srv := filepath.Join(dir, "state"), filepath.Join(dir, "srv")
	mountTmpfs(t, state, "2m")
	mountTmpfs(t, srv, "8m")
	h := chaosHost{dir: dir, configDir: filepath.Join(dir, "etc"), deployTo: filepath.Join(srv, "chaos"),
		marker: filepath.Join(dir, "marker.log"), files: 5}
	inbox := filepath.Join(dir, "inbox")
	config := writeChaosHost(t, h, "inbox_dir: "+inbox+"\n")
	r := &diskRun{d: newChaosDaemon(t, buildAgent(t), config, state, inbox), h: h, sources: chaosSources(t, 3, 150), ids: map[string]string{}}
	r.d.start(t)
	r.d.ready(t)
	for _, name := range []string{r.send(t, "setup", map[string]any{"gen": 1}), r.deploy(t, 0), r.deploy(t, 1)} {
		mustSucceed(t, name, r.d.wait(t, name))
	}

	t.Run("release", func(t *testing.T) {
		before, _ := checkDeployTo(t, h.deployTo, r.sources)
		filler := fill(t, srv, 64<<10)
		name := r.deploy(t, 2)
		res := r.d.wait(t, name)
		if res.Status != "failed" || !strings.Contains(res.Reason, "no space left on device") {
			t.Errorf("deploy on a full disk: %s (%s), want failed: no space left on device", res.Status, res.Reason)
		}
		if cur, v := checkDeployTo(t, h.deployTo, r.sources); cur != before || v != 1 {
			t.Errorf("current is %s (version %d) after the failed deploy, want %s (version 1)", cur, v, before)
		}
		os.Remove(filler)
		next := r.deploy(t, 2)
		mustSucceed(t, next, r.d.wait(t, next))
		set, _ := resources.OpenReleaseSet(h.deployTo)
		if cur, v := checkDeployTo(t, h.deployTo, r.sources); v != 2 || len(set.HalfBuilt()) > 0 {
			t.Errorf("after space returned: current %s (version %d), half-built %v", cur, v, set.HalfBuilt())
		}
		r.once(t, name)
		r.once(t, next)
	})

	t.Run("in-progress", func(t *testing.T) {
		journal, _ := os.ReadFile(filepath.Join(state, "journal.jsonl"))
		filler := fill(t, state, 0)
		name := r.send(t, "setup", map[string]any{"gen": 2})
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(r.d.log(), "cannot record the in-progress event"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no error for the in-progress record on a full disk\n%s", r.d.log())
			}
		}
		if n := starts(t, h.marker, r.ids[name]); n != 0 {
			t.Errorf("event ran %d times without its in-progress record", n)
		}
		if now, _ := os.ReadFile(filepath.Join(state, "journal.jsonl")); !bytes.Equal(now, journal) {
			t.Errorf("journal changed while the disk was full")
		}
		checkConfigFiles(t, h.configDir, h.files, 1)
		os.Remove(filler)
		mustSucceed(t, name, r.d.wait(t, name))
		checkConfigFiles(t, h.configDir, h.files, 2)
		r.once(t, name)
	})

	t.Run("journal-and-report", func(t *testing.T) {
		// The state dir fills while the run converges: its result, report
		// and journal entry are written on a full disk.
		hold := filepath.Join(dir, "hold")
		t.Cleanup(func() { os.WriteFile(hold+".go", nil, 0o644) }) // never leave the run waiting
		name := r.crossPage(t, map[string]any{"fill": hold})
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(hold + ".ready"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the run did not reach its fill step\n%s", r.d.log())
			}
		}
		logged := len(r.d.fullLog())
		filler := fill(t, state, 0)
		writeFile(t, hold+".go", "")
		// The run ends on a full disk: its journal entry cannot be written
		// and the daemon says so, then tries again; the event stays
		// unacknowledged until space returns, and never runs again.
		for deadline := time.Now().Add(time.Minute); !strings.Contains(r.d.fullLog()[logged:], "no space left on device"); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no write failed on the full state dir: nothing tested\n%s", r.d.log())
			}
		}
		for _, l := range strings.Split(r.d.fullLog()[logged:], "\n") {
			if strings.Contains(l, "no space left on device") {
				t.Logf("daemon: %s", l) // the clear error
			}
		}
		os.Remove(filler)
		res := r.d.wait(t, name)
		mustSucceed(t, name, res)
		r.once(t, name)
		checkStateFiles(t, state, inbox)
		next := r.send(t, "setup", map[string]any{"gen": 3})
		mustSucceed(t, next, r.d.wait(t, next))
		r.once(t, next)
		checkStateFiles(t, state, inbox)
	})
	cur, v := checkDeployTo(t, h.deployTo, r.sources)
	t.Logf("at the end: current %s (version %d)", cur, v)
}
