package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// Not parallel: the memory limit is the process's.
func TestDaemonMemoryLimitDefaultAndOverride(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	debug.SetMemoryLimit(math.MaxInt64)
	if got := setDaemonMemoryLimit(func(string) string { return "" }); got != defaultDaemonMemLimit || debug.SetMemoryLimit(-1) != defaultDaemonMemLimit {
		t.Fatalf("unset GOMEMLIMIT: limit %d, runtime %d, want %d", got, debug.SetMemoryLimit(-1), defaultDaemonMemLimit)
	}

	debug.SetMemoryLimit(1 << 30) // as the runtime does for GOMEMLIMIT=1GiB
	env := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	}
	if got := setDaemonMemoryLimit(env); got != 1<<30 || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Fatalf("GOMEMLIMIT=1GiB: limit %d, runtime %d; the operator's value must stay", got, debug.SetMemoryLimit(-1))
	}
}
