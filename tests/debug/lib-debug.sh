# SPDX-License-Identifier: GPL-2.0
# Helpers of the debug kernel's tests (debug-start.t, debug-end.t), sourced
# after lib.sh (busybox ash).

KML=/sys/kernel/debug/kmemleak
# First line of a checker's report in the kernel log: KASAN ("BUG: KASAN:"),
# lockdep ("WARNING: possible circular locking dependency", "BUG: Invalid
# wait context", ...), atomic sleep ("BUG: sleeping function called from
# invalid context"), debugobjects ("ODEBUG:"), kmemleak's scan summary, and
# any WARN/BUG/oops.
TCD_DEBUG_RE='BUG: |WARNING: |ODEBUG: |kmemleak: [0-9]+ new suspected|Oops|general protection|Kernel panic'

# debug_blocks: kernel log lines (stdin) from each report's first line, 60
# lines each, at most 800 in all, as "debug-report: " lines: the host copies
# them into the run's summary and build/logs/VER.reports.
debug_blocks() {
	awk -v re="$TCD_DEBUG_RE" '
		$0 ~ re { left = 60 }
		left > 0 && total < 800 { print "debug-report: " $0; left--; total++ }'
}

# kmemleak_scan: two scans 6 s apart (kmemleak reports an object only once
# it is 5 s old), then the number of unreferenced objects on stdout.
kmemleak_scan() {
	echo scan >"$KML"
	sleep 6
	echo scan >"$KML"
	grep -c '^unreferenced object' "$KML"
}

# lockdep_on: lockdep has not turned itself off (it does after its first
# report, or when it runs out of its tables).
lockdep_on() {
	grep -q '^ *debug_locks: *1$' /proc/lockdep_stats
}

# debug_reports_check WHERE: one KTAP line: no checker report logged since the
# last "debug" mark; else the reports as "debug-report: " lines. Marks anew.
debug_reports_check() {
	_dr=$(dmesg_since_mark debug | debug_blocks)
	if [ -z "$_dr" ]; then
		tap_ok "no checker report since the last check"
	else
		tap_fail "no checker report since the last check" \
			"$(printf '%s\n' "$_dr" | grep -c -E "$TCD_DEBUG_RE") report line(s)$1; debug-report lines follow"
		printf '%s\n' "$_dr"
	fi
	dmesg_mark debug
}
