package lifecycle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestInProgressKeepsTheMessageBytes: the record of a message's event is
// the message itself (bounded by MaxMessageBytes), parsed again on load.
func TestInProgressKeepsTheMessageBytes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in-progress.json")
	body := []byte(`{"version":1,"id":"d-7","type":"deploy","app":"wp","attributes":{"deploy":{"wp":{"n":1.5}}}}`)
	ev, err := Parse(body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveInProgress(path, &InProgress{Event: ev, Message: body, Received: testNow, MessageID: "m", Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), `"event"`) {
		t.Errorf("record re-encodes the event: %s", raw)
	}
	got, err := LoadInProgress(path)
	if err != nil || !reflect.DeepEqual(got.Event, ev) || got.MessageID != "m" {
		t.Fatalf("LoadInProgress = %+v, %v", got, err)
	}
}

// TestInProgressOldFormat: a record written by an agent before this one
// (the event re-encoded, indented) still loads.
func TestInProgressOldFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in-progress.json")
	os.WriteFile(path, []byte(`{
  "event": {"version": 1, "id": "e-1", "type": "deploy", "app": "wp", "issued_at": "2026-11-25T10:00:00Z"},
  "message_id": "m-1", "started": "2026-11-25T10:00:01Z", "pid": 42, "attempts": 2
}`), 0o640)
	ip, err := LoadInProgress(path)
	if err != nil || ip.Event.ID != "e-1" || ip.Event.App != "wp" || ip.Attempts != 2 {
		t.Fatalf("LoadInProgress = %+v, %v", ip, err)
	}
}

// FuzzEventPersistence: Parse, then the in-progress record, then the
// journal. Whatever the body: Parse never panics; an event it accepts
// is saved as its message, loads back as the same event, and its id
// makes one bounded journal line that is found again after a reopen.
func FuzzEventPersistence(f *testing.F) {
	for _, s := range []string{
		deployEvent,
		`{"version":1,"id":"a","type":"undeploy","app":"../../.."}`,
		`{"version":1,"id":"a","type":"execute_recipes","recipes":["role[../../x]"]}`,
		`{"version":1,"id":"a","type":"configure","attributes":{"n":1e400}}`,
		`{"version":1,"id":"a","type":"configure","attributes":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
		`{"version":1,"id":"` + strings.Repeat("i", 300) + `","type":"setup"}`,
		`{"version":1,"id":"\u0000\n\"","type":"setup","issued_at":"2026-11-25T10:11:12+02:00"}`,
		snsNotification(`{"version":1,"id":"s","type":"configure","layers":["a","b"]}`),
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Parse(body, testNow)
		if err != nil {
			return
		}
		path := filepath.Join(dir, "in-progress.json")
		if err := SaveInProgress(path, &InProgress{Event: ev, Message: body, Received: testNow}); err != nil {
			t.Fatalf("SaveInProgress: %v", err)
		}
		if fi, _ := os.Stat(path); fi.Size() > 2*MaxMessageBytes {
			t.Fatalf("record of %d bytes for a %d-byte message", fi.Size(), len(body))
		}
		ip, err := LoadInProgress(path)
		if err != nil || !reflect.DeepEqual(ip.Event, ev) {
			t.Fatalf("LoadInProgress = %+v, %v; want %+v", ip, err, ev)
		}
		jpath := filepath.Join(dir, "journal.jsonl")
		os.Remove(jpath)
		j, err := OpenJournal(jpath, 0, func() time.Time { return testNow })
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ev.ID, StatusSuccess); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if fi, _ := os.Stat(jpath); fi.Size() > 1024 {
			t.Fatalf("journal line of %d bytes", fi.Size())
		}
		j, _ = OpenJournal(jpath, 0, func() time.Time { return testNow })
		defer j.Close()
		if _, ok := j.Done(ev.ID); !ok {
			t.Fatalf("id %q not found after reopen", ShortID(ev.ID))
		}
	})
}
