# SPDX-License-Identifier: GPL-2.0
# Scale: 1000 concurrent blocking connects that all time out, with the default
# parameters. Every one must be accounted for and no probe may miss a return
# for want of maxactive instances.
# tcd-timeout: 400

P=/proc/tcpconndiag
N=1000


tap_check "module loads with defaults" load_module || exit 0
f0=$(counter connect-failed)
t0=$(counter connect-etimedout)
start=$(cut -d. -f1 /proc/uptime)
tcd-many timeouts $N >/tmp/many.out 2>&1
diag "$N blocking connects took $(($(cut -d. -f1 /proc/uptime) - start)) s"
diag "$(cat /tmp/many.out)"
seen=$(awk -F'count=' '/^result / { s += $2 } END { print s + 0 }' /tmp/many.out)
seen_to=$(sed -n 's/^result err=ETIMEDOUT count=\([0-9]*\)$/\1/p' /tmp/many.out)
f1=$(counter connect-failed)
t1=$(counter connect-etimedout)
if [ "$seen" -eq $N ]; then
	tap_ok "all $N connects returned"
else
	tap_fail "all $N connects returned" "program saw $seen results"
fi
if [ $((t1 - t0)) -eq "${seen_to:-0}" ] && [ $((f1 - f0)) -eq "$seen" ]; then
	tap_ok "every connect accounted for (etimedout +$((t1 - t0)) of ${seen_to:-0}, failed +$((f1 - f0)) of $seen)"
else
	tap_fail "every connect accounted for" \
		"program: $seen failed, ${seen_to:-0} ETIMEDOUT; module: failed +$((f1 - f0)), etimedout +$((t1 - t0))"
fi
# maxactive is what this test is about: a task-context probe that misses
# had too few instances. Softirq recursion drops (lib.sh) are shown.
missed=$(missed_task_probes)
if [ -z "$missed" ]; then
	tap_ok "no connect-path probe missed a hit or return (nmissed=0)"
else
	tap_fail "no connect-path probe missed a hit or return" "$missed"
fi
diag "softirq probes: $(grep -E "^probe: ($SOFTIRQ_PROBES) " $P | tr '\n' ';')"
rows_outlived_ok "after $N timeouts"
tap_check "unload after $N timeouts" unload_module
