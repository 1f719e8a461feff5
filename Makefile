# stackagent — build, test, benchmark.
GO      ?= go
# One version for make build and make package (scripts/version.sh, from git;
# PKG_VERSION=1.2.3 or VERSION=1.2.3 overrides it).
VERSION ?= $(or $(PKG_VERSION),$(shell scripts/version.sh))
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/stackagent

.PHONY: all build run test test-short lint bench deps clean

all: build

# One static binary (no cgo).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./agent

# The main job on a fresh machine: the daemon on the embedded default (no
# AWS: events from the local inbox). As root the FHS paths
# (/var/lib/stackagent/inbox); as a normal user a per-user state dir
# ($XDG_STATE_HOME/stackagent, else ~/.local/state/stackagent). The first
# log line says which. Ctrl-C stops it.
run: build
	./$(BIN) daemon

# Everything the tests need, the checks, then every test. AS ROOT THIS
# CHANGES THE HOST: scripts/test-deps.sh installs Apache, PHP, MariaDB,
# WordPress, packer, rpm and more from apt, and the integration tests drive
# real services, mounts and users. As a normal user nothing is installed
# (but fauxqs from npm) and the root-only tests skip themselves. Under
# CI=true as root a missing prerequisite fails instead of skipping.
# testenv/gotest prints what go test prints (each package's ok/FAIL line,
# failed tests' output) and then a table of the skipped tests.
test: deps lint
	$(GO) run ./testenv/gotest -race -count=1 -timeout 45m ./...

# The house rules: gofmt, go mod tidy, go vet, staticcheck (pinned in
# go.mod's tool block), functions <= 60 lines (testenv/funclen). Any
# finding fails.
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l: not formatted:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) run ./testenv/funclen .

# Function length (issue 13): none over 60 lines but table literals, a
# median of at most 15; testenv/funclen says what it measures and skips.
# Also run by make lint.
.PHONY: lint-funclen
lint-funclen:
	$(GO) run ./testenv/funclen -max 60 -median 15 .

# Unit tests only: no package installs, no services, no mounts, as root too.
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

# The .deb and .rpm for amd64 and arm64 (nfpm, a go.mod tool) in
# bin/packages/, stamped with the same VERSION as make build. See
# docs/packaging.md.
.PHONY: package
package:
	@PKG_VERSION='$(VERSION)' packaging/build.sh
