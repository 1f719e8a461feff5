#!/usr/bin/env bash
# Installs what the test suite needs: the SQS emulator (fauxqs, npm) and,
# as root, Debian packages. Safe to run again. As a normal user it installs
# no packages (the root-only tests then skip themselves).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

fauxqs() {
  # fauxqs (SQS/SNS emulator from npm) for the lifecycle integration
  # tests; idempotent, quick when node_modules matches the lock file.
  "$here/../testenv/fauxqs/install.sh"
}

if [ "$(id -u)" != 0 ]; then
  fauxqs
  echo "test-deps: not root; skipping package installs (root-only tests will skip)"
  exit 0
fi
need=(git make ca-certificates util-linux nodejs npm rpm systemd packer mariadb-server apache2 php libapache2-mod-php php-fpm php-mysql wordpress curl)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # node may come from outside Debian (the machine image has Node 20): only
  # install what is really absent.
  really=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs) command -v node >/dev/null || really+=("$p") ;;
      npm) command -v npm >/dev/null || really+=("$p") ;;
      *) really+=("$p") ;;
    esac
  done
  if [ ${#really[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -q
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${really[@]}"
  fi
fi
# apt's lists must exist for the package resource's integration tests.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update -q
fi
fauxqs
