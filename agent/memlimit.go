package main

import "runtime/debug"

// defaultDaemonMemLimit is the Go runtime's soft memory limit for the
// daemon when GOMEMLIMIT is not set (docs/benchmarks.md, "Daemon"). The
// daemon's live heap is ~2 MiB idle and stays flat over events; the
// limit does not make the collector work in that steady state (the heap
// goal, GOGC=100, is far below it). It bounds the rare spike — a large
// converge, a big custom-cookbook archive — and makes the runtime hand
// the memory back after it instead of keeping a heap goal doubled by the
// spike. The runtime caps the collector's CPU near the limit, so a
// run that truly needs more memory slows down rather than failing.
const defaultDaemonMemLimit = 32 << 20

// setDaemonMemoryLimit applies defaultDaemonMemLimit unless the operator
// set GOMEMLIMIT (the runtime has already applied it), and returns the
// limit in force.
func setDaemonMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(defaultDaemonMemLimit)
	return defaultDaemonMemLimit
}
