#!/usr/bin/env bash
# Runs every fuzz target of the repository (each `func FuzzXxx` in a
# _test.go file) for FUZZTIME each (default 60s; CI uses 10s), one after
# the other, and stops at the first that fails: the target's name, its
# package and the file go test wrote the crashing input to
# (PKG/testdata/fuzz/FuzzXxx/…) are printed. Re-run that input alone
# with: go test -run '^FuzzXxx$/HASH$' ./PKG
#
#   scripts/fuzz.sh                  # every target, 60s each
#   FUZZTIME=10s scripts/fuzz.sh     # CI
#   scripts/fuzz.sh FuzzParse        # only the targets named
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-60s}"

# PKG<TAB>TARGET, one a line, sorted: targets from every _test.go file
# outside vendored or hidden directories.
targets="$(grep -rE --include='*_test.go' --exclude-dir='.?*' --exclude-dir=vendor --exclude-dir=node_modules \
  -o '^func Fuzz[A-Za-z0-9_]*\(' . |
  sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($|./\1\t\2|; s|^\./[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($|.\t\1|' |
  sort -u)"
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi

n=0
while IFS=$'\t' read -r pkg target; do
  if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$target"; then
    continue
  fi
  n=$((n + 1))
  echo "fuzz: $target in $pkg for $FUZZTIME"
  # Minimizing a new input is capped: with go test's default (60 s) a
  # slow target (FuzzExtractArchive) spends most of a short run on it.
  if ! "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "${FUZZMINIMIZETIME:-10x}" "$pkg"; then
    echo "fuzz: FAIL: $target in $pkg" >&2
    if [ -d "$pkg/testdata/fuzz/$target" ]; then
      echo "fuzz: crashing inputs in $pkg/testdata/fuzz/$target/ (newest last):" >&2
      ls -tr "$pkg/testdata/fuzz/$target" | tail -n 3 | sed "s|^|  $pkg/testdata/fuzz/$target/|" >&2
    fi
    exit 1
  fi
done <<<"$targets"
if [ "$n" = 0 ]; then
  echo "fuzz: no target matches: $*" >&2
  exit 1
fi
echo "fuzz: $n targets passed ($FUZZTIME each)"
