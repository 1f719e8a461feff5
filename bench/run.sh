#!/bin/sh
# bench/run.sh: the WordPress-host benchmark (docs/benchmarks.md).
#
# Converges the same host spec with stackagent (bench/cookbooks/wpbench),
# ansible (bench/ansible/site.yml, -c local) and puppet (bench/puppet/site.pp,
# puppet apply) once each, then times RUNS no-op converges of each,
# alternating, and prints the medians of wall time, CPU time (user+sys) and
# peak RSS, with each tool's ratio to stackagent. A "no-op" run that changes
# anything fails the script.
#
# Needs root (it installs packages and manages /etc/apache2, /srv/www).
# It leaves apache2, php, ansible and puppet installed and apache2 running,
# with the wordpress vhost enabled.
#
# Environment: RUNS (default 7), STACKAGENT (a prebuilt binary; default:
# build bin/stackagent), KEEP (keep the run logs directory).
set -eu

RUNS=${RUNS:-7}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
logs=$(mktemp -d /tmp/stackagent-bench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$logs"' EXIT

die() { echo "bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (installs packages, manages /etc/apache2)"

# --- tools -----------------------------------------------------------------
need=""
command -v ansible-playbook >/dev/null || need="$need ansible"
command -v puppet >/dev/null || need="$need puppet"
if [ -n "$need" ]; then
	echo "bench: installing$need"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

if [ -z "${STACKAGENT:-}" ]; then
	(cd "$top" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/stackagent ./agent)
	STACKAGENT=$top/bin/stackagent
fi

# --- one converge of each tool ----------------------------------------------
# run NAME: one converge; its log goes to $logs/NAME.out, its measure
# ("wall user sys maxrss-KiB") to $logs/NAME.time; sets rc.
run() {
	case $1 in
	stackagent) timed "$1" "$STACKAGENT" run-recipe --no-embedded-cookbooks --cookbooks "$here/cookbooks" wpbench ;;
	sa-nopkg) timed "$1" "$STACKAGENT" run-recipe --no-embedded-cookbooks --cookbooks "$logs/nopkg" wpbench ;;
	ansible) timed "$1" env ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 \
		ansible-playbook -c local -i localhost, "$here/ansible/site.yml" ;;
	puppet) timed "$1" puppet apply --detailed-exitcodes --color=false --modulepath "$here/puppet/modules" "$here/puppet/site.pp" ;;
	esac
}

# timed NAME CMD...: the measure is wait4(2) on CMD's process (as
# /usr/bin/time does, but to the microsecond): wall time from fork to reap,
# CPU time and peak RSS of the process and of the children it waited for.
timed() {
	name=$1
	shift
	rc=0
	python3 -c "$measure" "$logs/$name.time" "$@" >"$logs/$name.out" 2>&1 || rc=$?
}
measure='
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    f.write("%.4f %.4f %.4f %d\n" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
'

# converged NAME: whether the last run of NAME succeeded and changed nothing.
converged() {
	case $1 in
	stackagent | sa-nopkg) [ "$rc" = 0 ] && grep -Eq ' 0/[0-9]+ resources updated' "$logs/$1.out" ;;
	ansible) [ "$rc" = 0 ] && grep -Eq 'changed=0 .*failed=0' "$logs/$1.out" ;;
	puppet) [ "$rc" = 0 ] ;; # --detailed-exitcodes: 2 = changes, 4/6 = failures
	esac
}

fail() {
	echo "bench: $1 run $2 (exit $rc):" >&2
	cat "$logs/$1.out" >&2
	die "$1: $2 run did not converge to a no-op"
}

echo "bench: first converge of each tool (installs apache2 and php on a new host)"
for t in stackagent ansible puppet; do
	run "$t"
	case $t:$rc in
	stackagent:0 | ansible:0 | puppet:0 | puppet:2) ;;
	*) fail "$t" first ;;
	esac
	echo "  $t: $(cut -d' ' -f1 "$logs/$t.time") s"
done
# A second pass: each tool must now find the others' work already done,
# which is the check that the three render the same files.
for t in stackagent ansible puppet; do
	run "$t"
	converged "$t" || fail "$t" "agreement (after the others converged)"
done

# A diagnostic fourth row: the same recipe without its package resource,
# i.e. what the engine costs apart from the package provider's commands.
cp -r "$here/cookbooks" "$logs/nopkg"
sed -i '/^package /d' "$logs/nopkg/wpbench/recipes/default.lua"

echo "bench: $RUNS no-op runs of each, alternating"
: >"$logs/samples"
i=1
while [ "$i" -le "$RUNS" ]; do
	for t in stackagent ansible puppet sa-nopkg; do
		run "$t"
		converged "$t" || fail "$t" "no-op #$i"
		echo "$t $(cat "$logs/$t.time")" >>"$logs/samples"
	done
	i=$((i + 1))
done

# --- report ----------------------------------------------------------------
# median of column $2 (after the tool name) for tool $1
median() {
	awk -v t="$1" -v c="$2" '$1 == t { print (c == "cpu" ? $3 + $4 : (c == "rss" ? $5 / 1024 : $2)) }' "$logs/samples" |
		sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
for t in stackagent ansible puppet sa-nopkg; do
	echo "$t $(median "$t" wall) $(median "$t" cpu) $(median "$t" rss)"
done >"$logs/medians"

echo
echo "No-op converge, median of $RUNS runs ($(nproc) cores, $(date -u +%Y-%m-%d)):"
awk '
	NR == 1 { w0 = $2; c0 = $3; r0 = $4 }
	{ t[NR] = $1; w[NR] = $2; c[NR] = $3; r[NR] = $4 }
	END {
		printf "%-11s %9s %9s %12s %9s %9s %9s\n", "tool", "wall s", "cpu s", "peak RSS MB", "wall x", "cpu x", "RSS x"
		for (i = 1; i <= NR; i++)
			printf "%-11s %9.3f %9.3f %12.1f %9.2f %9.2f %9.2f\n", t[i], w[i], c[i], r[i],
				w[i] / w0, (c0 > 0 ? c[i] / c0 : 0), r[i] / r0
		printf "(sa-nopkg: stackagent on the spec without its package resource; a diagnostic, not a peer)\n"
		fw = (w[2] < w[3]) ? 2 : 3
		x = w[fw] / w0
		printf "\nstackagent vs the faster peer (%s): %.1fx faster wall time, target >= 100x: %s\n", t[fw], x, (x >= 100 ? "met" : "NOT MET")
		printf "stackagent no-op wall %.3f s, target <= 0.040 s: %s\n", w0, (w0 <= 0.040 ? "met" : "NOT MET")
		printf "stackagent peak RSS %.1f MB, target <= 15 MB: %s\n", r0, (r0 <= 15 ? "met" : "NOT MET")
	}' "$logs/medians"
[ -z "${KEEP:-}" ] || echo "bench: logs and samples in $logs"
