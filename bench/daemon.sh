#!/bin/sh
# bench/daemon.sh: the daemon benchmark (docs/benchmarks.md, "Daemon").
#
# Starts fauxqs (testenv/fauxqs, an SQS-compatible server on 127.0.0.1),
# builds bin/stackagent (or uses $STACKAGENT) and bench/daemonbench, and
# runs daemonbench: it puts a counting proxy in front of fauxqs, starts
# `stackagent daemon` on a fresh queue with the bench cookbook
# (bench/daemon-cookbooks), and measures
#   - latency from just before SendMessage to the first resource's write
#     (inotify, same process clock), p50/p90 over LAT_EVENTS events;
#   - idle RSS after start-up, RSS after RSS_EVENTS and 2*RSS_EVENTS events;
#   - SQS requests per idle hour, counted at the proxy over IDLE seconds.
# It prints a table with the issue's targets and PASS/MISS. There is no
# peer tool for this benchmark, only the targets.
#
# Exit status: 0 when the run completed (targets met or not), 1 when the
# run is broken (no node/npm, fauxqs or the daemon failed, a timeout).
# Needs node and npm (Debian's nodejs/npm); not root.
#
# Environment: LAT_EVENTS (50), RSS_EVENTS (200), IDLE (65, seconds),
# STACKAGENT (a prebuilt binary), KEEP=DIR (keep the daemon's logs there),
# GCTRACE=1 (daemon runs with GODEBUG=gctrace=1; see KEEP's daemon.log).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
LAT_EVENTS=${LAT_EVENTS:-50}
RSS_EVENTS=${RSS_EVENTS:-200}
IDLE=${IDLE:-65}
work=$(mktemp -d /tmp/stackagent-daemonbench.XXXXXX)
fq_pid=""
db_pid=""

cleanup() {
	if [ -n "$db_pid" ]; then
		kill "$db_pid" 2>/dev/null || true
		wait "$db_pid" 2>/dev/null || true
	fi
	if [ -n "$fq_pid" ]; then
		kill "$fq_pid" 2>/dev/null || true
		wait "$fq_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() { echo "bench/daemon.sh: $*" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (apt-get install nodejs npm)"
command -v timeout >/dev/null || die "timeout(1) is needed (coreutils)"

# --- build ----------------------------------------------------------------
cd "$top"
if [ -z "${STACKAGENT:-}" ]; then
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/stackagent ./agent
	STACKAGENT=$top/bin/stackagent
fi
go build -o "$work/daemonbench" ./bench/daemonbench

# --- fauxqs ---------------------------------------------------------------
. "$here/fauxqs.sh"
start_fauxqs

# --- measure --------------------------------------------------------------
set -- -agent "$STACKAGENT" -cookbooks "$here/daemon-cookbooks" -endpoint "http://127.0.0.1:$port" \
	-latency-events "$LAT_EVENTS" -rss-events "$RSS_EVENTS" -idle "${IDLE}s" -tmp "$work"
[ -z "${KEEP:-}" ] || set -- "$@" -keep "$KEEP"
[ -z "${GCTRACE:-}" ] || set -- "$@" -gctrace
# Bounded: the helper gives up after 15 minutes itself; this is the backstop.
# In the background, so that a signal to this script runs the trap at once
# (the trap stops the helper, which stops the daemon).
timeout -k 10 1200 "$work/daemonbench" "$@" &
db_pid=$!
rc=0
wait "$db_pid" || rc=$?
db_pid=""
exit "$rc"
