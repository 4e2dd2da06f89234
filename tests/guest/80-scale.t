# SPDX-License-Identifier: GPL-2.0
# Scale: concurrent blocking connects that all time out. 1000 with the
# default parameters, then 10 000 with maxactive sized as the README says
# (above the number of connects blocked at once). Every one must be
# accounted for and no task-context probe may miss a return for want of
# maxactive instances; the memory the module holds at that setting is shown.
# tcd-timeout: 900

P=/proc/tcpconndiag

# scale N [PARAMS...]: N concurrent timeouts with the module loaded with PARAMS.
scale() {
	_n=$1
	shift
	tap_check "$_n: module loads ($*)" load_module "$@" || return
	diag "$_n: $(grep -E '^(params|memory):' $P | tr '\n' ';')"
	f0=$(counter connect-failed)
	t0=$(counter connect-etimedout)
	start=$(cut -d. -f1 /proc/uptime)
	tcd-many timeouts "$_n" >/tmp/many.out 2>&1
	diag "$_n blocking connects took $(($(cut -d. -f1 /proc/uptime) - start)) s"
	diag "$(cat /tmp/many.out)"
	seen=$(awk -F'count=' '/^result / { s += $2 } END { print s + 0 }' /tmp/many.out)
	seen_to=$(sed -n 's/^result err=ETIMEDOUT count=\([0-9]*\)$/\1/p' /tmp/many.out)
	f1=$(counter connect-failed)
	t1=$(counter connect-etimedout)
	is "$_n: all connects returned" "$seen" "$_n"
	if [ $((t1 - t0)) -eq "${seen_to:-0}" ] && [ $((f1 - f0)) -eq "$seen" ]; then
		tap_ok "$_n: every connect accounted for (etimedout +$((t1 - t0)) of ${seen_to:-0}, failed +$((f1 - f0)) of $seen)"
	else
		tap_fail "$_n: every connect accounted for" \
			"program: $seen failed, ${seen_to:-0} ETIMEDOUT; module: failed +$((f1 - f0)), etimedout +$((t1 - t0))"
	fi
	# Each failure is a connect-failed line or a suppressed count.
	is "$_n: failed-printed + failed-suppressed = failures" \
		"$(($(counter failed-printed) + $(counter failed-suppressed)))" "$(counter connect-failed)"
	# maxactive is what this test is about: a task-context probe that misses
	# had too few instances. Softirq recursion drops (lib.sh) are shown.
	missed=$(missed_task_probes)
	if [ -z "$missed" ]; then
		tap_ok "$_n: no connect-path probe missed a hit or return (nmissed=0)"
	else
		tap_fail "$_n: no connect-path probe missed a hit or return" "$missed"
	fi
	diag "$_n: softirq probes: $(grep -E "^probe: ($SOFTIRQ_PROBES) " $P | tr '\n' ';')"
	rows_outlived_ok "$_n: after the timeouts"
	tap_check "$_n: unload after the timeouts" unload_module
}

scale 1000
# 10 000 threads each blocked in connect() (tcd_env TCD_SCALE_BIG: fewer on
# the debug kernel), maxactive above that as the README says: room for their
# tasks and stacks.
BIG=${TCD_SCALE_BIG:-10000}
echo 40000 >/proc/sys/kernel/threads-max
scale "$BIG" maxactive=$((BIG * 1024 / 1000))
