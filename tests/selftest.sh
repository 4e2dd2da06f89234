#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh [VER]: prove the harness detects failures (default kernel 6.1).
# Runs run.sh with deliberately failing guest tests (tests/selftest/*/) and
# checks its exit status and counted failures. Not part of the normal run.
set -euo pipefail
# Braces: bash parses the whole script before running it, so editing this
# file while a run is in progress cannot derail that run.
{

HERE=$(cd "$(dirname "$0")" && pwd)
VER=${1:-6.1}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
bad=0

# expect NAME MIN_FAILED MAX_FAILED MAX_SECONDS [ENV=VAL...] -- run.sh args
# Passes if run.sh exits non-zero (or zero when MAX_FAILED is 0), the failure
# count on its last line is in range, and it finished in time.
expect() {
	local name=$1 fmin=$2 fmax=$3 tmax=$4 rc=0 start=$SECONDS last p f secs
	shift 4
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$HERE/run.sh" "$@" >"$OUT/$name.out" 2>&1 || rc=$?
	secs=$((SECONDS - start))
	last=$(tail -n 1 "$OUT/$name.out")
	p=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed, [0-9]* skipped$/\1/p' <<<"$last")
	f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed, [0-9]* skipped$/\1/p' <<<"$last")
	if [ -n "$f" ] && [ "$f" -ge "$fmin" ] && [ "$f" -le "$fmax" ] &&
		{ { [ "$fmax" -eq 0 ] && [ "$rc" -eq 0 ]; } || { [ "$fmax" -gt 0 ] && [ "$rc" -ne 0 ]; }; } &&
		[ "$secs" -le "$tmax" ]; then
		echo "PASS $name: exit $rc, '$last', ${secs}s"
	else
		echo "FAIL $name: exit $rc, '$last' (passed=$p), ${secs}s;" \
			"wanted $fmin..$fmax failed within ${tmax}s; output:"
		sed 's/^/    /' "$OUT/$name.out"
		bad=1
	fi
	grep -E '^[^ ]+: (FAIL|not ok|# )' "$OUT/$name.out" | sed 's/^/    /' || true
}

# Harness passes a clean run (needs 00-boot to pass on this kernel).
expect clean 0 0 120 TESTS=00-boot -- "$VER"
# Failed check + per-test timeout + non-zero exit + WARNING in dmesg = 4.
expect fail 4 4 180 TESTS=00-boot TCD_SELFTEST=fail -- "$VER"
# Kernel crash: no end marker + panic on console = 2, and no hang.
expect crash 2 2 120 TESTS=00-boot TCD_SELFTEST=crash -- "$VER"
# Hung guest: the host timeout ends it and counts 1.
expect hang 1 1 120 TESTS=00-boot TCD_SELFTEST=hang GUEST_TIMEOUT=40 -- "$VER"
# A kernel that is not in the matrix counts as a failure, not as "0 failed"
# (TESTS=00-boot: one boot, not one per TCG phase).
expect missing 1 1 30 TESTS=00-boot -- 0.0

[ "$bad" -eq 0 ] && echo "selftest: all checks passed" || echo "selftest: FAILED"
exit "$bad"
exit
}
