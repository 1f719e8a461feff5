#!/bin/sh
# bench/fleet.sh: the fleet simulation (docs/benchmarks.md, "Fleet").
#
# Starts fauxqs (testenv/fauxqs, an SQS/SNS-compatible server on
# 127.0.0.1), builds bin/stackagent (or uses $STACKAGENT) and
# bench/fleetbench, and runs fleetbench: per fleet size N it starts N
# `stackagent daemon` processes, each with its own state dir, SQS queue,
# instance id and metrics port, every queue subscribed to one SNS topic and
# every agent reporting to one results queue, then prints per N:
#   - publish → all results (median of RUNS), and the ratio to N=1;
#   - idle CPU (ms per minute) and RSS per agent;
#   - ReceiveMessage per agent per second (counted at a proxy);
#   - converge runs per agent in a storm of STORM configures.
# It is a benchmark, not a test: run it on a quiet machine, and say in the
# figures what else was running.
#
# Exit status: 0 when the run completed, 1 when it is broken (no node/npm,
# fauxqs or an agent failed, a timeout). Needs node and npm; not root.
#
# Environment: SIZES (1,10,50,100), RUNS (5), IDLE (60, seconds),
# STORM (50), SETTLE (the agents' configure_settle; empty: their default),
# STACKAGENT (a prebuilt binary).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
SIZES=${SIZES:-1,10,50,100}
RUNS=${RUNS:-5}
IDLE=${IDLE:-60}
STORM=${STORM:-50}
work=$(mktemp -d /tmp/stackagent-fleetbench.XXXXXX)
fq_pid=""
fb_pid=""

cleanup() {
	if [ -n "$fb_pid" ]; then
		kill "$fb_pid" 2>/dev/null || true
		wait "$fb_pid" 2>/dev/null || true
	fi
	if [ -n "$fq_pid" ]; then
		kill "$fq_pid" 2>/dev/null || true
		wait "$fq_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() { echo "bench/fleet.sh: $*" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (apt-get install nodejs npm)"
command -v timeout >/dev/null || die "timeout(1) is needed (coreutils)"

# --- build ----------------------------------------------------------------
cd "$top"
if [ -z "${STACKAGENT:-}" ]; then
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/stackagent ./agent
	STACKAGENT=$top/bin/stackagent
fi
go build -o "$work/fleetbench" ./bench/fleetbench

# --- fauxqs ---------------------------------------------------------------
. "$here/fauxqs.sh"
start_fauxqs

# --- measure --------------------------------------------------------------
echo "bench/fleet.sh: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# In the background, so that a signal to this script runs the trap at once.
timeout -k 20 7200 "$work/fleetbench" -agent "$STACKAGENT" -cookbooks "$here/daemon-cookbooks" \
	-endpoint "http://127.0.0.1:$port" -n "$SIZES" -runs "$RUNS" -idle "${IDLE}s" -storm "$STORM" -settle "${SETTLE:-}" -tmp "$work" &
fb_pid=$!
rc=0
wait "$fb_pid" || rc=$?
fb_pid=""
echo "bench/fleet.sh: done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit "$rc"
