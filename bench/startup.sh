#!/bin/sh
# bench/startup.sh: the start-up benchmark (docs/benchmarks.md, "Start-up").
#
# Builds bin/stackagent as `make build` does (or uses $STACKAGENT), a Go
# hello-world with the same toolchain and flags (the floor: what any Go
# binary costs to start here), and bench/startupbench, then runs, RUNS
# rounds interleaved after one warm-up:
#   hello       the Go hello-world;
#   version     stackagent version;
#   run-empty   stackagent run-recipe of an empty recipe (site cookbook
#               "empty", no embedded cookbooks, --root and --state-dir in
#               a temporary directory: nothing on the host is touched);
# and prints per command wall and CPU time (median, minimum) and peak RSS
# (median), from wait4(2). Then the init trace of `stackagent version`
# (GODEBUG=inittrace=1): the total clock and bytes of every package
# initialised before main, and the ten costliest.
#
# Not root; nothing is left behind. Environment: RUNS (50), STACKAGENT
# (a prebuilt binary).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RUNS=${RUNS:-50}
work=$(mktemp -d /tmp/stackagent-startupbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

cd "$top"
if [ -z "${STACKAGENT:-}" ]; then
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/stackagent" ./agent
	STACKAGENT=$work/stackagent
fi
go build -o "$work/startupbench" ./bench/startupbench

mkdir -p "$work/hello" "$work/cb/empty/recipes" "$work/root" "$work/state"
cat >"$work/hello/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("hello") }
GO
printf 'module hello\n\ngo 1.26\n' >"$work/hello/go.mod"
(cd "$work/hello" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/hello-bin" .)
: >"$work/cb/empty/recipes/default.lua"

echo "binary: $STACKAGENT ($(wc -c <"$STACKAGENT") bytes); $(go version); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/startupbench" -runs "$RUNS" \
	"hello=$work/hello-bin" \
	"version=$STACKAGENT version" \
	"run-empty=$STACKAGENT run-recipe --root $work/root --state-dir $work/state --cookbooks $work/cb --no-embedded-cookbooks empty"

echo
echo "init before main (GODEBUG=inittrace=1 stackagent version):"
GODEBUG=inittrace=1 "$STACKAGENT" version 2>&1 >/dev/null | awk '
	/^init / { n++; ms += $5; b += $8; print }
	END { printf "total: %d packages, %.2f ms clock, %.2f MB allocated\n", n, ms, b/1048576 > "/dev/stderr" }' |
	sort -k5 -rn | head -10
