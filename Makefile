# stackagent — build, test, benchmark.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/stackagent

.PHONY: all build run test test-short bench deps clean

all: build

# One static binary (no cgo).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./agent

# The main job on a fresh machine: the daemon on the embedded default (no
# AWS: events from the local inbox, /var/lib/stackagent/inbox). Ctrl-C
# stops it.
run: build
	./$(BIN) daemon

# Everything the tests need from Debian's packages, then every test.
# As root this includes the integration tests (apt, init scripts, mounts,
# users); as a normal user those skip themselves.
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 45m ./...

# Unit tests only, no package installs.
test-short:
	$(GO) test -short -count=1 ./...

# Go benchmarks, then (as root) the WordPress-host comparison with ansible
# and puppet (docs/benchmarks.md); bench/run.sh installs those two. Then
# the daemon benchmark against fauxqs (bench/daemon.sh; needs node/npm),
# then the deploy benchmark (bench/deploy.sh; WordPress tree vs cp -a).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if [ ! -x bench/run.sh ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then STACKAGENT=$(CURDIR)/$(BIN) bench/run.sh; \
	else echo "bench/run.sh skipped: it needs root (installs packages, manages /etc/apache2)"; fi
	@if command -v node >/dev/null && command -v npm >/dev/null; then STACKAGENT=$(CURDIR)/$(BIN) bench/daemon.sh; \
	else echo "bench/daemon.sh skipped: it needs node and npm (fauxqs)"; fi
	@if [ -d /usr/share/wordpress ] || [ "$$(id -u)" = 0 ]; then bench/deploy.sh; \
	else echo "bench/deploy.sh skipped: it needs /usr/share/wordpress (apt-get install wordpress, as root)"; fi

deps:
	@scripts/test-deps.sh

# Every fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME each,
# stopping at the first crash (docs/testing.md). CI: FUZZTIME=10s.
FUZZTIME ?= 60s
.PHONY: fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

clean:
	rm -rf bin

# The .deb and .rpm for amd64 and arm64 (nfpm, pinned, from the Go module
# proxy) in bin/packages/; PKG_VERSION=1.2.3 overrides the git-derived
# version. See docs/packaging.md.
.PHONY: package
package:
	@packaging/build.sh
