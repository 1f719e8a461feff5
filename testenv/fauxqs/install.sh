#!/usr/bin/env bash
# Installs fauxqs (pinned in package-lock.json) into node_modules here for
# the lifecycle package's SQS/SNS integration tests. Idempotent: does
# nothing when node_modules already matches the lock file. Needs node and
# npm (Debian's nodejs/npm or NodeSource); without them it says so and
# exits 0, and the tests that need fauxqs skip themselves.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "fauxqs: node/npm not found; SQS integration tests will skip" >&2
  exit 0
fi
# One install at a time (test binaries of several packages may call this).
if command -v flock >/dev/null; then
  exec 9>.install.lock
  flock -w 600 9
fi
stamp=node_modules/.stackagent-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/fauxqs/package.json ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
