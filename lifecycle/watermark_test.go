package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatermarksPersistAndOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), WatermarkFile)
	w, err := OpenWatermarks(path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	c2 := &Event{ID: "c2", Type: TypeConfigure, IssuedAt: at(2)}
	if err := w.Advance(c2, at(100)); err != nil {
		t.Fatal(err)
	}
	// An older event never moves the mark back.
	if err := w.Advance(&Event{ID: "c1", Type: TypeConfigure, IssuedAt: at(1)}, at(101)); err != nil {
		t.Fatal(err)
	}
	w, err = OpenWatermarks(path) // a restart reads it back
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ev    *Event
		older bool
	}{
		{&Event{ID: "c1", Type: TypeConfigure, IssuedAt: at(1)}, true},
		{c2, false}, // the same event (run again after a crash)
		{&Event{ID: "c2b", Type: TypeConfigure, IssuedAt: at(2)}, false}, // as new: runs
		{&Event{ID: "c3", Type: TypeConfigure, IssuedAt: at(3)}, false},
		{&Event{ID: "c0", Type: TypeConfigure, IssuedAt: at(0), Envelope: EnvelopeDrift}, false},
		{&Event{ID: "s0", Type: TypeSetup, IssuedAt: at(0)}, false},
		{&Event{ID: "d0", Type: TypeDeploy, App: "a", IssuedAt: at(0)}, false},
	} {
		if m, older := w.Older(c.ev); older != c.older || (older && m.EventID != "c2") {
			t.Errorf("%s: older %v (mark %+v), want %v", c.ev.ID, older, m, c.older)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("store: %v %v", info, err)
	}
}

func TestWatermarksStateKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{Type: TypeConfigure}, "configure"},
		{Event{Type: TypeDeploy, App: "blog", Command: CommandRollback}, "app/blog"},
		{Event{Type: TypeUndeploy, App: "blog"}, "app/blog"},
		{Event{Type: TypeDeploy}, "app/*"},
		{Event{Type: TypeSetup}, ""},
		{Event{Type: TypeShutdown}, ""},
		{Event{Type: TypeExecuteRecipes}, ""},
		{Event{Type: TypeConfigure, Envelope: EnvelopeDrift}, ""},
	} {
		if got := StateKey(&c.ev); got != c.want {
			t.Errorf("%+v: key %q, want %q", c.ev, got, c.want)
		}
	}
}

func TestNewerBySequenceThenTime(t *testing.T) {
	t.Parallel()
	late, early := t0.Add(time.Hour), t0
	if !Newer(&Event{Sequence: 2, IssuedAt: early}, &Event{Sequence: 1, IssuedAt: late}) {
		t.Error("sequence 2 is newer than 1 whatever the clocks say")
	}
	if !Newer(&Event{Sequence: 1, IssuedAt: late}, &Event{IssuedAt: early}) {
		t.Error("without a sequence on both, issued_at decides")
	}
	if Newer(&Event{IssuedAt: early}, &Event{IssuedAt: early}) {
		t.Error("equal is not newer")
	}
}

func TestWatermarksBoundedIDAndUnreadableFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), WatermarkFile)
	w, _ := OpenWatermarks(path)
	long := strings.Repeat("x", 200_000)
	if err := w.Advance(&Event{ID: long, Type: TypeConfigure, IssuedAt: t0}, t0); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() > 1024 {
		t.Fatalf("a 200 KB id made a %d-byte store", info.Size())
	}
	if _, older := w.Older(&Event{ID: long, Type: TypeConfigure, IssuedAt: t0}); older {
		t.Fatal("the same long id is not older than itself")
	}
	if err := os.WriteFile(path, []byte("{torn"), 0o640); err != nil {
		t.Fatal(err)
	}
	w, err := OpenWatermarks(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("unreadable store: %v", err)
	}
	if _, older := w.Older(&Event{ID: "c", Type: TypeConfigure, IssuedAt: t0}); older {
		t.Fatal("an unreadable store starts empty")
	}
}

func TestParseSequence(t *testing.T) {
	t.Parallel()
	ev, err := Parse([]byte(`{"version":1,"id":"c","type":"configure","sequence":42}`), t0)
	if err != nil || ev.Sequence != 42 {
		t.Fatalf("%+v %v", ev, err)
	}
	for _, bad := range []string{`-1`, `1.5`, `"7"`} {
		_, err := Parse([]byte(`{"version":1,"id":"c","type":"configure","sequence":`+bad+`}`), t0)
		if err == nil || !strings.Contains(err.Error(), "sequence") {
			t.Errorf("sequence %s: %v, want refused naming the field", bad, err)
		}
	}
}
