#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [VER...]: run the guest tests on each kernel (default: 5.10 6.1 6.12),
# carrying on after failures. The last line is the total, "N passed, N failed".
# A kernel whose run could not start or finish adds a failure. Env TESTS="a b"
# restricts the tests; TCD_EXTRA_RESULTS="NAME=FILE ..." adds the counts of
# other suites (see below); other env is passed to run-guest.sh (see there).
set -euo pipefail
# Braces: bash parses the whole script before running it, so editing this
# file while a run is in progress cannot derail that run.
{

HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- 5.10 6.1 6.12

total_pass=0
total_fail=0
total_skip=0
summary=()
# Tests marked "# tcd-accel: single" boot separately under single-threaded
# TCG: arming kprobes rewrites kernel text while the other vCPU runs it, and
# multi-threaded TCG does not always see that cross-modifying code coherently
# (a module whose handlers do nothing crashes the same way), which real CPUs
# and single-threaded TCG do.
all_tests=${TESTS:-$(cd "$HERE/guest" && ls ./*.t | sed 's|^\./||; s|\.t$||')}
normal=
single=
for t in $all_tests; do
	if grep -q '^# tcd-accel: *single' "$HERE/guest/$t.t" 2>/dev/null; then
		single="$single $t"
	else
		normal="$normal $t"
	fi
done
runs=()
for ver in "$@"; do
	[ -n "$normal" ] && runs+=("$ver:tcg:$normal")
done
# Second phase: the single-threaded boots start once the first ones are done,
# so the two kinds do not starve each other of the host's CPUs.
for ver in "$@"; do
	[ -n "$single" ] && runs+=("$ver:tcg,thread=single:$single")
done

# The boots of a phase run in parallel: the guests spend
# most of their time waiting on TCP timers, so this cuts the wall time. Their
# output lines carry a "VER: " prefix, so interleaving stays readable.
declare -A res_of=() pid_of=() rc_of=()
# out_of ACCEL: the output directory of a boot under that accelerator.
out_of() {
	local out=${TCD_OUT:-$HERE/../build}
	[ "$1" = tcg ] || out=$out/single
	echo "$out"
}
# read_result FILE: p, f, k (skipped), s from the first line,
# "passed=N failed=N [skipped=N] seconds=S".
read_result() {
	p=$(sed -n '1s/.*passed=\([0-9]*\).*/\1/p' "$1")
	f=$(sed -n '1s/.*failed=\([0-9]*\).*/\1/p' "$1")
	k=$(sed -n '1s/.*skipped=\([0-9]*\).*/\1/p' "$1")
	k=${k:-0}
	s=$(sed -n '1s/.*seconds=\([0-9]*\).*/\1/p' "$1")
}
# finish_phase: wait for every boot started so far, keeping each exit status.
finish_phase() {
	local run rc
	for run in "${!pid_of[@]}"; do
		[ -n "${rc_of[$run]:-}" ] && continue
		rc=0
		wait "${pid_of[$run]}" || rc=$?
		rc_of[$run]=$rc
	done
}
phase=tcg
for run in "${runs[@]}"; do
	IFS=: read -r ver accel tests <<<"$run"
	if [ "$accel" != "$phase" ]; then
		finish_phase
		phase=$accel
	fi
	res_of[$run]=$(mktemp)
	# shellcheck disable=SC2086 # tests is a word list
	TCD_OUT=$(out_of "$accel") QEMU_ACCEL=$accel TCD_RESULT=${res_of[$run]} \
		"$HERE/run-guest.sh" "$ver" $tests &
	pid_of[$run]=$!
done
finish_phase
for run in "${runs[@]}"; do
	IFS=: read -r ver accel tests <<<"$run"
	label=$ver
	[ "$accel" = tcg ] || label="$ver ($accel)"
	rc=${rc_of[$run]:-1}
	res=${res_of[$run]}
	if [ -s "$res" ]; then
		read_result "$res"
		# A non-zero exit with no failure counted would hide a problem.
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		summary+=("$label: $p passed, $f failed, $k skipped (${s}s)")
	else
		p=0
		f=1
		k=0
		summary+=("$label: could not run (exit $rc)")
	fi
	# Repeat what failed, with its diagnostics, where a reader of only the
	# tail of the output (CI) sees it.
	log=$(out_of "$accel")/logs/$ver.log
	while IFS= read -r line; do
		summary+=("  ${line#problem: }")
	done < <(sed -n '/^problem: /p' "$res")
	if [ "$f" -gt 0 ] && [ -f "$log" ]; then
		while IFS= read -r line; do
			summary+=("  $line")
		done < <(awk '/^not ok [0-9]+ /{n = 8; print; next}
			/^# ---- /{n = 0} n > 0 && /^#/{print; n--; next} {n = 0}' "$log" |
			head -n 60)
	fi
	rm -f "$res"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + k))
done

# Suites run before this one (make check: host tests, DKMS), as NAME=FILE
# words; FILE holds "passed=N failed=N seconds=S", a missing one is a failure.
for extra in ${TCD_EXTRA_RESULTS:-}; do
	name=${extra%%=*}
	res=${extra#*=}
	if [ -s "$res" ]; then
		read_result "$res"
		summary+=("$name: $p passed, $f failed, $k skipped (${s}s)")
	else
		p=0
		f=1
		k=0
		summary+=("$name: did not run or finish (no $res)")
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + k))
done

echo "---- summary ----"
printf '%s\n' "${summary[@]}"
# Skips are listed, and never counted as passes.
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ] && [ $((total_pass + total_fail)) -gt 0 ]
exit
}
