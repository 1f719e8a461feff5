# bench/fauxqs.sh: sourced by bench/daemon.sh and bench/fleet.sh. Starts
# fauxqs (testenv/fauxqs, SQS/SNS on 127.0.0.1) for a benchmark and sets
# fq_pid and port. Needs: $work (the benchmark's temporary dir), die(),
# the current directory at the top of the repository. fauxqs exits when
# its stdin closes: fd 8 holds the fifo open, so it also goes away if the
# benchmark is killed; the caller's cleanup kills $fq_pid.
# shellcheck shell=sh

start_fauxqs() {
	timeout 600 testenv/fauxqs/install.sh >&2 || die "installing fauxqs failed"
	[ -f testenv/fauxqs/node_modules/fauxqs/package.json ] || die "fauxqs is not installed"
	mkfifo "$work/fq.in"
	node testenv/fauxqs/launch.mjs 0 <"$work/fq.in" >"$work/fq.out" 2>"$work/fq.err" &
	fq_pid=$!
	exec 8>"$work/fq.in"
	port=""
	i=0
	while [ $i -lt 200 ]; do
		port=$(sed -n 's/^FAUXQS_PORT=//p' "$work/fq.out" 2>/dev/null)
		[ -n "$port" ] && break
		kill -0 "$fq_pid" 2>/dev/null || { cat "$work/fq.err" >&2; die "fauxqs exited"; }
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$port" ] || die "fauxqs did not start within 20 s"
	echo "fauxqs $(node -p 'require("./testenv/fauxqs/node_modules/fauxqs/package.json").version') on 127.0.0.1:$port" >&2
}
