#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [VER...]: run the guest tests on each kernel (default: every kernel
# of lab/kernels.conf), carrying on after failures. The last line is the
# total, "N passed, N failed". A kernel whose run could not start or finish
# adds a failure. Env TESTS="a b" restricts the tests; TCD_JOBS (default 5)
# and TCD_JOBS_SINGLE (default: the host's CPU count) cap the guests booted
# at once in the two phases (see below); TCD_EXTRA_RESULTS="NAME=FILE ..."
# adds the counts of other suites, TCD_EXTRA_WAIT="PID:LOG" waits for the
# process that writes them first; other env is passed to run-guest.sh.
set -euo pipefail
# Braces: bash parses the whole script before running it, so editing this
# file while a run is in progress cannot derail that run.
{

HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
	# shellcheck source=lab/matrix.sh
	. "$HERE/../lab/matrix.sh"
	mapfile -t kernels < <(matrix_names)
	[ ${#kernels[@]} -gt 0 ] || exit 2
	set -- "${kernels[@]}"
fi
JOBS=${TCD_JOBS:-5}
JOBS_SINGLE=${TCD_JOBS_SINGLE:-$(nproc)}
for j in "$JOBS" "$JOBS_SINGLE"; do
	[[ $j =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: TCD_JOBS and TCD_JOBS_SINGLE must be positive numbers" >&2; exit 2; }
done

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

# The boots of a phase run in parallel. Multi-threaded TCG guests spend most
# of their time waiting on TCP timers: five at once on 2 host CPUs each took
# 1.1-1.2x as long as three at once, so the cap (TCD_JOBS) is the whole
# five-kernel matrix. Single-threaded guests run CPU-bound work against
# in-guest deadlines (50-reliability's storm stops after 700 s): more of them
# than host CPUs make those tests fail, so that phase is capped at the CPU
# count (TCD_JOBS_SINGLE). Figures: docs/LAB.md. Output lines carry a "VER: "
# prefix, so interleaving stays readable.
declare -A res_of=() run_of_pid=() rc_of=()
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
# reap_one: wait for any one running boot, keeping its exit status.
reap_one() {
	local pid rc=0
	wait -n -p pid "${!run_of_pid[@]}" || rc=$?
	rc_of[${run_of_pid[$pid]}]=$rc
	unset "run_of_pid[$pid]"
}
# finish_phase: wait for every boot started so far.
finish_phase() {
	while [ ${#run_of_pid[@]} -gt 0 ]; do reap_one; done
}
phase=tcg
for run in "${runs[@]}"; do
	IFS=: read -r ver accel tests <<<"$run"
	if [ "$accel" != "$phase" ]; then
		finish_phase
		phase=$accel
	fi
	cap=$JOBS
	[ "$accel" = tcg ] || cap=$JOBS_SINGLE
	while [ ${#run_of_pid[@]} -ge "$cap" ]; do reap_one; done
	res_of[$run]=$(mktemp)
	# shellcheck disable=SC2086 # tests is a word list
	TCD_OUT=$(out_of "$accel") QEMU_ACCEL=$accel TCD_RESULT=${res_of[$run]} \
		"$HERE/run-guest.sh" "$ver" $tests &
	run_of_pid[$!]=$run
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

# TCD_EXTRA_WAIT=PID:LOG: suites running beside this one (make check: host
# tests, DKMS); wait for them to end, then show what they printed.
if [ -n "${TCD_EXTRA_WAIT:-}" ]; then
	wpid=${TCD_EXTRA_WAIT%%:*}
	wlog=${TCD_EXTRA_WAIT#*:}
	while kill -0 "$wpid" 2>/dev/null; do sleep 1; done
	echo "---- beside the guests ($wlog) ----"
	cat "$wlog" 2>/dev/null || echo "(no $wlog)"
fi
# Their results (or of suites run before this one), as NAME=FILE words; FILE
# holds "passed=N failed=N seconds=S", a missing one is a failure.
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
