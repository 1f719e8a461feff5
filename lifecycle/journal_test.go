package lifecycle

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestJournalPersistsAndPrunes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j, err := OpenJournal(path, 24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record("old", StatusSuccess); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Hour)
	j.Record("new", StatusFailed)
	j.Close()
	// A torn last line (a crash mid-write) is dropped, the rest kept.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"torn","sta`)
	f.Close()

	j, err = OpenJournal(path, 24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := j.Done("old"); !ok || e.Status != StatusSuccess {
		t.Fatalf("old: %+v %v", e, ok)
	}
	if _, ok := j.Done("torn"); ok || j.Len() != 2 {
		t.Fatalf("torn line kept, len %d", j.Len())
	}
	j.Close()
	// Past the max age, entries go at the next open.
	now = now.Add(5 * time.Hour)
	j, _ = OpenJournal(path, 24*time.Hour, clock)
	defer j.Close()
	if _, ok := j.Done("old"); ok {
		t.Fatal("old entry not pruned")
	}
	if _, ok := j.Done("new"); !ok {
		t.Fatal("new entry lost")
	}
	b, _ := os.ReadFile(path)
	if len(b) == 0 || string(b[len(b)-1]) != "\n" {
		t.Fatalf("journal file after prune: %q", b)
	}
}

func TestInProgressRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in-progress.json")
	if ip, err := LoadInProgress(path); ip != nil || err != nil {
		t.Fatalf("empty: %v %v", ip, err)
	}
	want := &InProgress{Event: &Event{Version: 1, ID: "e-1", Type: TypeDeploy, App: "wp"}, MessageID: "m-1", Attempts: 2}
	if err := SaveInProgress(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadInProgress(path)
	if err != nil || got.Event.ID != "e-1" || got.Event.App != "wp" || got.Attempts != 2 {
		t.Fatalf("got %+v %v", got, err)
	}
	os.WriteFile(path, []byte("{broken"), 0o640)
	if _, err := LoadInProgress(path); err == nil {
		t.Fatal("a broken record must be reported")
	}
	ClearInProgress(path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("not cleared")
	}
}

func TestResultStoreKeepsLastN(t *testing.T) {
	t.Parallel()
	s := &ResultStore{Dir: t.TempDir(), Keep: 3}
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if _, err := s.Save(&Result{EventID: "e/" + string(rune('a'+i)), End: base.Add(time.Duration(i) * time.Second), Status: StatusSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	last := s.Last(10)
	if len(last) != 3 || last[0].EventID != "e/e" || last[2].EventID != "e/c" {
		t.Fatalf("kept %v", last)
	}
	if s.Find("e/d") == nil || s.Find("e/a") != nil {
		t.Fatal("Find")
	}
	if got := Tail("line1\nline2\nline3", 8); got != "line3" {
		t.Fatalf("Tail: %q", got)
	}
}
