#!/usr/bin/env bash
# Builds the stackagent packages: a static binary per architecture, then a
# .deb and an .rpm of each with nfpm (packaging/nfpm.yaml), in bin/packages/
# with a SHA256SUMS. `make package` runs it. Settings (environment):
#   PKG_VERSION  package and binary version; default from git: a tag
#                v1.2.3 gives 1.2.3, 3 commits after it 1.2.3+3.gSHA, no
#                tag 0.0.0+gitYYYYMMDDHHMMSS.SHA (".dirty" for local changes)
#   ARCHES       Go architectures (default "amd64 arm64": x86 and Graviton)
#   FORMATS      nfpm packagers (default "deb rpm")
#   OUT          output folder (default bin/packages)
#   GO           the go command (default go)
# nfpm comes from the Go module proxy at a pinned version, built once into
# bin/.tools/. Needs nothing but Go.
set -euo pipefail
cd "$(dirname "$0")/.."

NFPM_MODULE=github.com/goreleaser/nfpm/v2/cmd/nfpm
NFPM_VERSION=v2.45.2
GO=${GO:-go}
OUT=${OUT:-bin/packages}
ARCHES=${ARCHES:-amd64 arm64}
FORMATS=${FORMATS:-deb rpm}

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

version=${PKG_VERSION:-$(git_version)}
# Valid for dpkg and rpm alike: a digit first, then letters, digits . + ~
if ! [[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]]; then
  echo "build.sh: package version \"$version\" must start with a digit and hold only letters, digits, . + ~" >&2
  exit 1
fi

tools=bin/.tools
nfpm=$tools/nfpm-$NFPM_VERSION
if [ ! -x "$nfpm" ]; then
  mkdir -p "$tools"
  echo "build.sh: building nfpm $NFPM_VERSION" >&2
  GOBIN=$(mktemp -d) && trap 'rm -rf "$GOBIN"' EXIT
  GOBIN=$GOBIN GOFLAGS=-mod=mod $GO install "$NFPM_MODULE@$NFPM_VERSION"
  mv "$GOBIN/nfpm" "$nfpm"
fi

mkdir -p "$OUT"
for arch in $ARCHES; do
  bin=$OUT/$arch/stackagent
  mkdir -p "$OUT/$arch"
  echo "build.sh: stackagent $version linux/$arch" >&2
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$bin" ./agent
  for format in $FORMATS; do
    STACKAGENT_ARCH=$arch STACKAGENT_VERSION=$version STACKAGENT_BINARY=$bin \
      "$nfpm" package --config packaging/nfpm.yaml --packager "$format" --target "$OUT/" >&2
  done
done
(cd "$OUT" && sha256sum -- *.deb *.rpm 2>/dev/null > SHA256SUMS || true)
ls -1 "$OUT"/*.deb "$OUT"/*.rpm 2>/dev/null || true
