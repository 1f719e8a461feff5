package testenv

import (
	"testing"
)

// TestRequire: present never skips; missing skips, or fails under CI as
// root (a sub-test under a fake testing.TB records which).
func TestRequire(t *testing.T) {
	t.Setenv("CI", "true")
	rec := &recorder{TB: t}
	func() {
		defer func() { recover() }() // the recorder panics where Skip and Fatal would end the test
		Require(rec, "thing", false)
	}()
	want := "skip"
	if Strict() {
		want = "fail"
	}
	if rec.did != want {
		t.Fatalf("missing prerequisite under CI=true (strict=%v): got %q, want %q", Strict(), rec.did, want)
	}
	rec = &recorder{TB: t}
	Require(rec, "thing", true)
	if rec.did != "" {
		t.Fatalf("present prerequisite: %s", rec.did)
	}
	t.Setenv("CI", "")
	if Strict() {
		t.Fatal("strict without CI")
	}
}

type recorder struct {
	testing.TB
	did string
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(args ...any)      { r.did = "skip"; panic("skip") }
func (r *recorder) Fatalf(string, ...any) { r.did = "fail"; panic("fail") }
