#!/usr/bin/env bash
# Installs what the test suite needs from Debian's packages. Safe to run
# again; does nothing that needs root when not root (the root-only tests
# then skip themselves).
set -euo pipefail
need=(git ca-certificates)
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: not root; skipping package installs (root-only tests will skip)"
  exit 0
fi
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
# apt's lists must exist for the package resource's integration tests.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  apt-get update -q
fi

# --- lifecycle: fauxqs (SQS/SNS emulator, npm) for the SQS integration
# tests; idempotent. Needs node and npm; the tests skip without them.
"$(dirname "$0")/../testenv/fauxqs/install.sh"
