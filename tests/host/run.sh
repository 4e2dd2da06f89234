#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--result FILE] [TEST...]: run the host-side tests (tests/host/*.sh,
# default all), each printing KTAP-style "ok N"/"not ok N" lines. Ends with
# "host: N passed, N failed"; exit 1 on any failure. A test that exits
# non-zero without a "not ok", or reports nothing, counts as one failure.
# --result FILE also writes "passed=N failed=N skipped=N seconds=S" (for
# tests/run.sh). A SKIP is counted on its own, never as a pass.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RESULT_FILE=
if [ "${1:-}" = --result ]; then
	RESULT_FILE=${2:?--result needs a file}
	shift 2
fi
if [ $# -eq 0 ]; then
	for f in "$HERE"/*.sh; do
		case ${f##*/} in run.sh | lib.sh) ;; *) set -- "$@" "$f" ;; esac
	done
fi

passed=0
failed=0
skipped=0
start=$SECONDS
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	[ -f "$t" ] || t=$HERE/${t%.sh}.sh
	name=$(basename "$t" .sh)
	echo "# ---- host: $name ----"
	rc=0
	bash "$t" 2>&1 | sed -u "s/^\(\(not \)\?ok [0-9]* \)/\1$name: /" | tee "$out" || rc=${PIPESTATUS[0]}
	p=$(grep '^ok ' "$out" | grep -c -v '# SKIP' || true)
	k=$(grep '^ok ' "$out" | grep -c '# SKIP' || true)
	f=$(grep -c '^not ok ' "$out" || true)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name: exited $rc without reporting a failure"
		f=1
	elif [ $((p + f + k)) -eq 0 ]; then
		echo "not ok $name: reported no results"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
done

echo "host: $passed passed, $failed failed, $skipped skipped"
[ -z "$RESULT_FILE" ] ||
	echo "passed=$passed failed=$failed skipped=$skipped seconds=$((SECONDS - start))" >"$RESULT_FILE"
[ "$failed" -eq 0 ]
