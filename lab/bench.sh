#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [VER...|all]: boot each kernel (names from lab/kernels.conf,
# default 6.1) once and run tests/bench/bench.t (no module / tcpconndiag /
# tracefs kretprobe peer, alternating), printing the "bench:" lines.
# Env: TCD_BENCH_ROUNDS (5), TCD_BENCH_SECONDS (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/matrix.sh
. "$ROOT/lab/matrix.sh"
[ $# -gt 0 ] || set -- 6.1
# shellcheck disable=SC2046 # one word per kernel name
[ "$*" != all ] || set -- $(matrix_names)
matrix_check "$@"
"$ROOT/lab/fetch-kernel.sh" "$@"
mkdir -p "$ROOT/build"
for v in "$@"; do
	"$ROOT/lab/build-module.sh" "$v" >"$ROOT/build/bench-build-$v.log" 2>&1 ||
		{ cat "$ROOT/build/bench-build-$v.log"; exit 1; }
	rc=0
	VERBOSE=1 GUEST_TIMEOUT=1800 TEST_TIMEOUT=1700 \
		TCD_APPEND="tcd_env=TCD_BENCH_ROUNDS=${TCD_BENCH_ROUNDS:-5},TCD_BENCH_SECONDS=${TCD_BENCH_SECONDS:-3}" \
		"$ROOT/tests/run-guest.sh" "$v" "$ROOT/tests/bench/bench.t" >"$ROOT/build/bench-$v.log" 2>&1 || rc=$?
	grep -a '^bench: ' "$ROOT/build/bench-$v.log" || true
	[ "$rc" -eq 0 ] || { echo "bench $v: guest run failed (exit $rc), see build/bench-$v.log" >&2; exit 1; }
done
