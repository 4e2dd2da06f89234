#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [VER...|all]: on a machine that cannot load modules, boot a Debian
# kernel (names from lab/kernels.conf, default 5.10: the one with the bug) in
# QEMU, load tcpconndiag, run a small failing workload and print
# /proc/tcpconndiag and the module's kernel log lines. Several kernels run
# one after the other; the exit status is the first failure's.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/matrix.sh
. "$ROOT/lab/matrix.sh"
[ $# -gt 0 ] || set -- 5.10
# shellcheck disable=SC2046 # one word per kernel name
[ "$*" != all ] || set -- $(matrix_names)
matrix_check "$@"
"$ROOT/lab/fetch-kernel.sh" "$@"
mkdir -p "$ROOT/build"
status=0
for VER in "$@"; do
	"$ROOT/lab/build-module.sh" "$VER" >"$ROOT/build/demo-build-$VER.log" 2>&1 ||
		{ cat "$ROOT/build/demo-build-$VER.log"; exit 1; }
	rc=0
	VERBOSE=1 "$ROOT/tests/run-guest.sh" "$VER" "$ROOT/tests/demo/demo.t" >"$ROOT/build/demo-$VER.log" 2>&1 || rc=$?
	# The demo's own output lies between its begin and end markers.
	sed -n '/^==== demo begin/,/^==== demo end/p' "$ROOT/build/demo-$VER.log"
	if [ "$rc" -ne 0 ]; then
		echo "demo: the $VER guest run failed (exit $rc); full console: build/demo-$VER.log" >&2
		[ "$status" -ne 0 ] || status=$rc
	fi
done
exit "$status"
