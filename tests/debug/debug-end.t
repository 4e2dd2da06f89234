# SPDX-License-Identifier: GPL-2.0
# Last test of every boot of a debug kernel (run-guest.sh adds it): unload
# the module, run kmemleak, and fail on anything a checker reported since
# the last debug-check.t: KASAN, lockdep, atomic sleep, debugobjects,
# kmemleak, or any WARN/BUG. Each report goes to the console as "debug-report: " lines,
# which the host copies into the summary. Sourced by /init with lib.sh.
# tcd-timeout: 180

. /tests/lib-debug.sh

if module_loaded tcpconndiag; then
	tap_check "tcpconndiag unloads before the kmemleak scan" unload_module
fi
# The module's memory is freed by now; give RCU callbacks time to run.
sleep 2

if [ -w "$KML" ]; then
	n=$(kmemleak_scan)
	if [ "$n" -eq 0 ]; then
		tap_ok "kmemleak: no leak after the tests and rmmod"
	else
		tap_fail "kmemleak: no leak after the tests and rmmod" \
			"$n unreferenced object(s); with tcpconndiag in the backtrace: $(grep -c 'tcpconndiag\|\[tcpconndiag\]' "$KML")"
		sed -n '1,400s/^/debug-report: kmemleak: /p' "$KML"
	fi
else
	tap_fail "kmemleak: no leak after the tests and rmmod" "no $KML"
fi

tap_check "lockdep still on (no lockdep report turned it off)" lockdep_on
debug_reports_check ""
