#!/usr/bin/env bash
# Prints the version `make build` and `make package` stamp into the binary
# (and the packages), from git: a tag v1.2.3 gives 1.2.3, 3 commits after it
# 1.2.3+3.gSHA, no tag 0.0.0+gitYYYYMMDDHHMMSS.SHA; ".dirty" for local
# changes; 0.0.0+dev outside git. Valid for dpkg and rpm alike.
set -euo pipefail
cd "$(dirname "$0")/.."

git_version() {
  local desc v
  if desc=$(git describe --tags --match 'v[0-9]*' --dirty=.dirty 2>/dev/null); then
    v=${desc#v}
    # v1.2.3-4-gabc1234 → 1.2.3+4.gabc1234; a pre-release v1.2.3-rc1 → 1.2.3~rc1
    v=$(printf '%s' "$v" | sed -E 's/-([0-9]+)-g([0-9a-f]+)/+\1.g\2/; s/-/~/g')
  elif git rev-parse --git-dir >/dev/null 2>&1; then
    v="0.0.0+git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short HEAD)"
    git diff --quiet HEAD -- 2>/dev/null || v="$v.dirty"
  else
    v=0.0.0+dev
  fi
  printf '%s\n' "$v"
}
git_version
