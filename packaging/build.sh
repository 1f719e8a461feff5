#!/usr/bin/env bash
# Builds the stackagent packages: a static binary per architecture, then a
# .deb and an .rpm of each with nfpm (packaging/nfpm.yaml), in bin/packages/
# with a SHA256SUMS. `make package` runs it. Settings (environment):
#   PKG_VERSION  package and binary version; default scripts/version.sh
#                (from git), the same that `make build` stamps
#   ARCHES       Go architectures (default "amd64 arm64": x86 and Graviton)
#   FORMATS      nfpm packagers (default "deb rpm")
#   OUT          output folder (default bin/packages)
#   GO           the go command (default go)
# nfpm is a tool of the module (go.mod's tool block, pinned there), run with
# `go tool nfpm`: `go mod download` fetches it with everything else, so an
# offline build needs nothing but Go and the module cache.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
OUT=${OUT:-bin/packages}
ARCHES=${ARCHES:-amd64 arm64}
FORMATS=${FORMATS:-deb rpm}

version=${PKG_VERSION:-$(scripts/version.sh)}
# Valid for dpkg and rpm alike: a digit first, then letters, digits . + ~
if ! [[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]]; then
  echo "build.sh: package version \"$version\" must start with a digit and hold only letters, digits, . + ~" >&2
  exit 1
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
      $GO tool nfpm package --config packaging/nfpm.yaml --packager "$format" --target "$OUT/" >&2
  done
done
(cd "$OUT" && sha256sum -- *.deb *.rpm 2>/dev/null > SHA256SUMS || true)
ls -1 "$OUT"/*.deb "$OUT"/*.rpm 2>/dev/null || true
