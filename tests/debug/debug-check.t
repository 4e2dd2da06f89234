# SPDX-License-Identifier: GPL-2.0
# Between two tests on a debug kernel (run-guest.sh adds it after each): any
# checker report logged since the previous check, printed as "debug-report: "
# lines right away, so a report is placed after the test that caused it and
# reaches the host even if a later test hangs the guest. Sourced by /init
# with lib.sh.
# tcd-timeout: 60

. /tests/lib-debug.sh

r=$(dmesg_since_mark debug | debug_blocks)
if [ -z "$r" ]; then
	tap_ok "no checker report since the last check"
else
	tap_fail "no checker report since the last check" \
		"$(printf '%s\n' "$r" | grep -c -E "$TCD_DEBUG_RE") report line(s) after the test above; debug-report lines follow"
	printf '%s\n' "$r"
fi
dmesg_mark debug
