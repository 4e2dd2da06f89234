# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # ROOT is for the tests
# Helpers for the host-side tests (bash): KTAP-style result lines, one
# numbering per test file. Source it, call the helpers, end with tap_done.

TAP_N=0
TAP_FAILED=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

tap_ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1${2:+ # $2}"
}

# tap_fail DESC [REASON...]: each reason (may be multi-line) as '# ' lines.
tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | head -n 40 | sed 's/^/# /'
}

tap_skip() {
	tap_ok "$1" "SKIP $2"
}

# tap_check DESC CMD...: ok if CMD exits 0, else not ok with its output.
tap_check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "exit $rc: $*" "$out"
	fi
	return 0
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
