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
cd "$top"
exec go run ./bench/deploybench -src "$SRC" -runs "$RUNS" ${WORK:+-work "$WORK"}
