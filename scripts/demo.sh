#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [VER]: on a machine that cannot load modules, boot a Debian kernel
# (default 5.10) in QEMU, load tcpconndiag, run a small failing workload and
# print /proc/tcpconndiag and the module's kernel log lines.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VER=${1:-5.10}
"$ROOT/scripts/build-module.sh" "$VER" >"$ROOT/build/demo-build-$VER.log" 2>&1 ||
	{ cat "$ROOT/build/demo-build-$VER.log"; exit 1; }
mkdir -p "$ROOT/build"
rc=0
VERBOSE=1 "$ROOT/tests/run-guest.sh" "$VER" "$ROOT/tests/demo/demo.t" >"$ROOT/build/demo-$VER.log" 2>&1 || rc=$?
# The demo's own output lies between its begin and end markers.
sed -n '/^==== demo begin/,/^==== demo end/p' "$ROOT/build/demo-$VER.log"
if [ "$rc" -ne 0 ]; then
	echo "demo: the guest run failed (exit $rc); full console: build/demo-$VER.log" >&2
	exit "$rc"
fi
