// Package testenv decides what a test does when something it needs is not
// there. On a developer's machine it skips, saying what is missing and how
// to get it. Under CI (CI=true, which CI sets) as root, .ci/run has
// installed every prerequisite first, so a missing one means the suite is
// about to pass without running what matters: there it fails the test.
//
// Every integration and e2e test checks its prerequisites through Require
// (or Command, or Root for the root-only tests), never with a bare t.Skip.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Strict reports whether a missing prerequisite fails rather than skips:
// CI=true, running as root, not -short.
func Strict() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci && os.Geteuid() == 0 && !testing.Short()
}

// Require skips t (or fails it, when Strict) unless ok. what says what is
// missing and how to get it: "/usr/share/wordpress (Debian's wordpress
// package; scripts/test-deps.sh installs it, as root)".
func Require(t testing.TB, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if Strict() {
		t.Fatalf("missing prerequisite under CI as root: %s (.ci/run installs every prerequisite first)", what)
	}
	t.Skip("missing: " + what)
}

// Command returns the path of an executable on PATH, or skips (fails
// when Strict) with how to get it.
func Command(t testing.TB, name, how string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Require(t, name+" on PATH ("+how+")", err == nil)
	return p
}

// Root marks an integration test that needs root (installs packages,
// drives services, mounts, chowns): it skips under -short (make
// test-short installs and changes nothing, as root too) and for a normal
// user. Neither is a missing prerequisite: they never fail.
func Root(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (" + why + "): skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// Short skips t under -short: a test that is slow (builds binaries, waits
// out an outage) but needs nothing the machine may lack.
func Short(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: " + why)
	}
}
