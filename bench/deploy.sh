#!/bin/sh
# bench/deploy.sh: the deploy benchmark (docs/benchmarks.md, "Deploy").
#
# Deploys the WordPress tree (/usr/share/wordpress, from Debian's
# wordpress package, installed when missing and running as root) with the
# deploy resource, in-process (bench/deploybench): a local source and
# force_deploy, so every run hashes the tree, builds a whole release,
# links a shared dir, switches current and prunes to keep_releases 3.
# cp -a of the same tree on the same disk alternates with it; it prints
# the file count, the medians of RUNS each and their ratio (target
# <= 1.3x). Then RUNS more deploys run while a reader readlinks and stats
# current in a tight loop: it must never find current absent or dangling.
#
# Environment: RUNS (5), SRC (/usr/share/wordpress), WORK (scratch dir,
# default a temp dir under /var/tmp).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RUNS=${RUNS:-5}
SRC=${SRC:-/usr/share/wordpress}

if [ ! -d "$SRC" ]; then
	if [ "$SRC" = /usr/share/wordpress ] && [ "$(id -u)" = 0 ]; then
		echo "deploy.sh: installing Debian's wordpress package for $SRC" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q wordpress >/dev/null
	else
		echo "deploy.sh: $SRC is missing (apt-get install wordpress, as root)" >&2
		exit 1
	fi
fi
# A release may not hold links that leave it (docs/security.md): Debian's
# tree links .htaccess, the CA bundle and getID3 to files outside it, which
# the deploy resource refuses. Bench a copy where each such link is
# replaced by the file it names (as e2e/sources_test.go does); dangling
# ones are dropped.
stage=$(mktemp -d /var/tmp/deploybench-src.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM
cp -a "$SRC/." "$stage/"
src_real=$(realpath -e -- "$SRC")
(cd "$stage" && find . -type l) | while IFS= read -r rel; do
	t=$(realpath -m -- "$src_real/$rel")
	case "$t" in "$src_real"/*) continue ;; esac
	rm -f -- "$stage/$rel"
	if [ -f "$t" ]; then cp -- "$t" "$stage/$rel"; fi
done
cd "$top"
go run ./bench/deploybench -src "$stage" -runs "$RUNS" ${WORK:+-work "$WORK"}
