#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [VER...|all]: boot each kernel (names from lab/kernels.conf,
# default all) once and run tests/bench/bench.t (no module / tcpconndiag /
# tracefs peer, alternating), printing the "bench:" lines.
# Env: TCD_BENCH_MODE icount (default: one vCPU, single-threaded TCG, QEMU
# -icount: guest time is executed instructions, so a rate is 1e9 /
# instructions per cycle and repeats to a few tenths of a percent) or wall
# (2 vCPUs, multi-threaded TCG, 1 and 2 threads: wall-clock, noisy);
# TCD_BENCH_ROUNDS (5), TCD_BENCH_SECONDS (1 guest second under icount, 3
# wall), TCD_BENCH_WORKLOADS ("4b 4n 6b 6n"), TCD_BENCH_JOBS (kernels booted
# at once, default 2), BEFORE (a git revision: its module is measured in the
# same boot as "before").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/matrix.sh
. "$ROOT/lab/matrix.sh"
[ $# -gt 0 ] || set -- all
# shellcheck disable=SC2046 # one word per kernel name
[ "$*" != all ] || set -- $(matrix_names)
matrix_check "$@"
"$ROOT/lab/fetch-kernel.sh" "$@"
mkdir -p "$ROOT/build"
MODE=${TCD_BENCH_MODE:-icount}
case $MODE in
icount)
	export QEMU_EXTRA="-icount shift=0,sleep=off" QEMU_ACCEL=tcg,thread=single QEMU_SMP=1
	SECS=${TCD_BENCH_SECONDS:-1} THREADS=1 ;;
wall) SECS=${TCD_BENCH_SECONDS:-3} THREADS="1 2" ;;
*) echo "bench: TCD_BENCH_MODE is icount or wall, not '$MODE'" >&2; exit 2 ;;
esac
for v in "$@"; do
	"$ROOT/lab/build-module.sh" "$v" >"$ROOT/build/bench-build-$v.log" 2>&1 ||
		{ cat "$ROOT/build/bench-build-$v.log"; exit 1; }
done
# BEFORE=REV: that revision's module, measured in the same boot ("before").
if [ -n "${BEFORE:-}" ]; then
	rm -rf "$ROOT/build/bench-before-src"
	git -C "$ROOT" worktree add --detach "$ROOT/build/bench-before-src" "$BEFORE" >/dev/null
	for v in "$@"; do
		"$ROOT/lab/build-module.sh" "$v" "$ROOT/build/bench-before-src" "$ROOT/build/bench-before-$v" \
			>"$ROOT/build/bench-build-before-$v.log" 2>&1 ||
			{ cat "$ROOT/build/bench-build-before-$v.log"; exit 1; }
		cp "$ROOT/build/bench-before-$v/tcpconndiag.ko" "$ROOT/build/bench-before-$v.ko"
	done
	git -C "$ROOT" worktree remove --force "$ROOT/build/bench-before-src"
fi
bench_one() {
	local v=$1 rc=0
	VERBOSE=1 GUEST_TIMEOUT=5400 MODULE_KO_BEFORE=${BEFORE:+$ROOT/build/bench-before-$v.ko} TEST_TIMEOUT=5300 TCD_OUT="$ROOT/build/bench-out-$v" \
		TCD_APPEND="tcd_env=TCD_BENCH_ROUNDS=${TCD_BENCH_ROUNDS:-5},TCD_BENCH_SECONDS=$SECS,TCD_BENCH_THREADS=${THREADS// /+},TCD_BENCH_WORKLOADS=$(echo "${TCD_BENCH_WORKLOADS:-4b 4n 6b 6n}" | tr ' ' +)" \
		"$ROOT/tests/run-guest.sh" "$v" "$ROOT/tests/bench/bench.t" >"$ROOT/build/bench-$v.log" 2>&1 || rc=$?
	echo "$rc" >"$ROOT/build/bench-$v.rc"
}
jobs=0
for v in "$@"; do
	bench_one "$v" &
	jobs=$((jobs + 1))
	if [ "$jobs" -ge "${TCD_BENCH_JOBS:-2}" ]; then
		wait -n || true
		jobs=$((jobs - 1))
	fi
done
wait
fail=0
for v in "$@"; do
	echo "# $v ($MODE)"
	grep -a '^bench: ' "$ROOT/build/bench-$v.log" || true
	rc=$(cat "$ROOT/build/bench-$v.rc")
	[ "$rc" -eq 0 ] || { echo "bench $v: guest run failed (exit $rc), see build/bench-$v.log" >&2; fail=1; }
done
exit $fail
