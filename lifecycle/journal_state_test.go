package lifecycle

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJournalReadsTheFormatBeforeDigests: a journal written by an agent
// before ids were stored by digest (lines {"id","status","at"}, one of
// them longer than the old reader's 1 MiB line limit) keeps every entry.
func TestJournalReadsTheFormatBeforeDigests(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	huge := strings.Repeat("\x01", 200<<10) // JSON-escaped: 1.2 MB on one line
	old := `{"id":"old-1","status":"success","at":"2026-11-25T09:00:00Z"}` + "\n" +
		`{"id":"` + strings.Repeat(`\u0001`, 200<<10) + `","status":"failed","at":"2026-11-25T09:01:00Z"}` + "\n" +
		`{"id":"old-2","status":"refused","at":"2026-11-25T09:02:00Z"}` + "\n"
	os.WriteFile(path, []byte(old), 0o640)
	j, err := OpenJournal(path, 24*time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for id, status := range map[string]Status{"old-1": StatusSuccess, huge: StatusFailed, "old-2": StatusRefused} {
		if e, ok := j.Done(id); !ok || e.Status != status {
			t.Errorf("entry %s: %+v %v", ShortID(id), e, ok)
		}
	}
	// Rewritten in the new format: every line short, short ids whole.
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if len(line) > 512 || !strings.Contains(line, `"sha256":"`) {
			t.Errorf("line after prune: %.200s", line)
		}
	}
	if !bytes.Contains(b, []byte(`"id":"old-1"`)) {
		t.Errorf("a short id is kept whole: %s", b)
	}
}

// TestJournalLongIDBoundedAndDeduplicated: a 200 KB id makes a short line
// and is found again after a reopen.
func TestJournalLongIDBoundedAndDeduplicated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	id := strings.Repeat("x", 200<<10)
	j, err := OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(id, StatusSuccess); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if fi, _ := os.Stat(path); fi.Size() > 512 {
		t.Fatalf("journal of one entry is %d bytes", fi.Size())
	}
	j, err = OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, ok := j.Done(id); !ok {
		t.Fatal("long id not found after reopen")
	}
	if _, ok := j.Done(id + "y"); ok {
		t.Fatal("another id found")
	}
}

type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n, _ := f.w.Write(p[:f.n])
		f.n = 0
		return n, errors.New("no space left on device (injected)")
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestJournalPruneFailureKeepsJournal: a prune whose write fails half-way
// leaves the journal file and the open journal as they were.
func TestJournalPruneFailureKeepsJournal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, id := range []string{"a", "b", "c"} {
		j.Record(id, StatusSuccess)
	}
	before, _ := os.ReadFile(path)
	j.wrap = func(w io.Writer) io.Writer { return &failAfter{w: w, n: 30} }
	if err := j.Prune(); err == nil {
		t.Fatal("Prune with a failing write returned no error")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatalf("journal changed by a failed prune:\n%s\n---\n%s", before, after)
	}
	if err := j.Record("d", StatusSuccess); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j2, err := OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if j2.Len() != 4 {
		t.Fatalf("entries after a failed prune: %d", j2.Len())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestJournalOnFullDisk (root): on a tmpfs with no space left, Record
// fails without a torn line and OpenJournal's prune fails with the
// journal intact; once space returns every entry is there.
func TestJournalOnFullDisk(t *testing.T) {
	t.Parallel()
	dir := smallTmpfs(t)
	path := filepath.Join(dir, "journal.jsonl")
	j, err := OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, id := range []string{"e-1", "e-2", "e-3"} {
		if err := j.Record(id, StatusSuccess); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	before, _ := os.ReadFile(path)
	var recErr error
	for i := 0; i < 200 && recErr == nil; i++ { // the page the file ends in may hold a few more
		recErr = j.Record(strings.Repeat("z", 100)+string(rune('a'+i%26)), StatusSuccess)
	}
	if recErr == nil {
		t.Fatal("Record on a full disk returned no error")
	}
	j.Close()
	if _, err := OpenJournal(path, 0, nil); err == nil {
		t.Fatal("OpenJournal on a full disk pruned without error")
	}
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, before) || len(after) > 0 && after[len(after)-1] != '\n' {
		t.Fatalf("journal damaged on a full disk: %q", after)
	}
	os.Remove(filler)
	j, err = OpenJournal(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, id := range []string{"e-1", "e-2", "e-3"} {
		if _, ok := j.Done(id); !ok {
			t.Errorf("%s lost", id)
		}
	}
}

// smallTmpfs mounts a 64 KiB tmpfs (root only; skipped otherwise and
// under -short) and unmounts it at the end.
func smallTmpfs(t *testing.T) string {
	t.Helper()
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs (and not -short)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fill writes file until the file system is full.
func fill(t *testing.T, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			return
		}
	}
}

// TestJournalSkipsOverlongLine: a line longer than the reader's limit is
// skipped and the lines after it kept (the old reader stopped there, so
// every later id ran again).
func TestJournalSkipsOverlongLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	content := `{"id":"before","status":"success","at":"2026-11-25T09:00:00Z"}` + "\n" +
		`{"id":"` + strings.Repeat("x", maxJournalLine+10) + `","status":"success","at":"2026-11-25T09:00:00Z"}` + "\n" +
		`{"id":"after","status":"success","at":"2026-11-25T09:00:00Z"}` + "\n"
	os.WriteFile(path, []byte(content), 0o640)
	j, err := OpenJournal(path, 24*time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for _, id := range []string{"before", "after"} {
		if _, ok := j.Done(id); !ok {
			t.Errorf("%s lost", id)
		}
	}
	if j.Len() != 2 {
		t.Errorf("entries: %d", j.Len())
	}
}
