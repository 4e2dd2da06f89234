#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test initramfs: set up a minimal system, run /tests/*.t as KTAP,
# print an end marker the host checks for, power off.

export PATH=/progs:/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Without /dev/console in the cpio the kernel gives init no stdio.
exec </dev/null >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up
hostname tcd-guest

. /tests/lib.sh
tcd_counters_init

tests=
timeout=120
# tcd_timeout_scale=N: every test's timeout times N (slow debug kernels).
scale=1
for arg in $(cat /proc/cmdline); do
	case $arg in
	tcd_tests=*) tests=$(echo "${arg#tcd_tests=}" | tr ',' ' ') ;;
	tcd_timeout=*) timeout=${arg#tcd_timeout=} ;;
	tcd_timeout_scale=*) scale=${arg#tcd_timeout_scale=} ;;
	# tcd_env=NAME=VALUE,...: settings for the tests (e.g. benchmark length).
	tcd_env=*)
		for kv in $(echo "${arg#tcd_env=}" | tr ',' ' '); do
			case ${kv%%=*} in *[!A-Z0-9_]*) continue ;; esac
			export "$kv"
		done
		;;
	esac
done
# Tests whose own clocks must outlast slow steps (a storm's deadline, a
# socket's TCP_USER_TIMEOUT) scale them by this too.
export TCD_TIMEOUT_SCALE="$scale"
if [ -z "$tests" ]; then
	for t in /tests/*.t; do
		[ -f "$t" ] && tests="$tests $(basename "$t" .t)"
	done
fi

echo "KTAP version 1"
diag "kernel $(uname -r), $(nproc) CPUs, tests:$tests"

# Run one test script in its own session so a timeout can kill everything it
# started; report not ok if it timed out, exited non-zero without reporting a
# failure, or reported nothing at all.
run_test() {
	name=$1
	file=/tests/$name.t
	if [ ! -f "$file" ]; then
		tap_fail "$name" "no such test: $file"
		return
	fi
	# A test may set its own limit with a '# tcd-timeout: N' line (0 = none).
	to=$(sed -n 's/^# *tcd-timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n 1)
	to=$((${to:-$timeout} * scale))
	count0=$(tcd_counter count)
	fail0=$(tcd_counter fail)
	rm -f "$TCD_STATE/timedout"
	diag "---- $name (timeout ${to}s) ----"
	start=$(cut -d. -f1 /proc/uptime)

	TCD_TEST=$name setsid sh -c '. /tests/lib.sh; . "$1"' "$name" "$file" &
	pid=$!
	wd=
	if [ "$to" -gt 0 ]; then
		setsid sh -c 'sleep "$2"; kill -0 "$1" 2>/dev/null || exit 0
			: >"$3"; kill -TERM -"$1"; sleep 3; kill -KILL -"$1"' \
			wd "$pid" "$to" "$TCD_STATE/timedout" &
		wd=$!
	fi
	wait "$pid"
	rc=$?
	[ -n "$wd" ] && kill -KILL -"$wd" 2>/dev/null
	# Reap anything the test left running in the background.
	kill -KILL -"$pid" 2>/dev/null
	secs=$(($(cut -d. -f1 /proc/uptime) - start))

	if [ -e "$TCD_STATE/timedout" ]; then
		tap_fail "$name" "test timed out after ${to}s"
	elif [ "$rc" -ne 0 ] && [ "$(tcd_counter fail)" -eq "$fail0" ]; then
		tap_fail "$name" "test script exited with status $rc"
	elif [ "$(tcd_counter count)" -eq "$count0" ]; then
		tap_fail "$name" "test script reported no results"
	fi
	diag "---- $name done in ${secs}s ----"
}

for t in $tests; do
	run_test "${t%.t}"
done

# Console loglevel hides KERN_WARNING, so a WARN()/Oops the kernel survived
# would not reach the host: echo such lines so the host scan sees them.
kernel_reports | sed 's/^/kernel-log: /'

echo "1..$(tcd_counter count)"
diag "totals: pass:$(tcd_counter pass) fail:$(tcd_counter fail) skip:$(tcd_counter skip)"
echo "TCD-END passed=$(tcd_counter pass) failed=$(tcd_counter fail) skipped=$(tcd_counter skip)"
# Let the serial port drain before the machine goes away.
sync
sleep 0.3
poweroff -f
echo o >/proc/sysrq-trigger
sleep 5
