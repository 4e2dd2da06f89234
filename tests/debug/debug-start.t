# SPDX-License-Identifier: GPL-2.0
# First test of every boot of a debug kernel (run-guest.sh adds it): the
# checkers are on, none reported anything while booting, and kmemleak's
# view of the boot is taken (scan, then clear), so debug-end.t reports only
# what leaked while the tests ran. Sourced by /init with lib.sh.
# tcd-timeout: 120

. /tests/lib-debug.sh

cfg=$(zcat /proc/config.gz 2>/dev/null)
for o in PREEMPT_RT KASAN PROVE_LOCKING PROVE_RAW_LOCK_NESTING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK DEBUG_OBJECTS; do
	if printf '%s\n' "$cfg" | grep -qx "CONFIG_$o=y"; then
		tap_ok "debug kernel has CONFIG_$o"
	else
		tap_fail "debug kernel has CONFIG_$o" "not in /proc/config.gz"
	fi
done
tap_check "lockdep is on" lockdep_on
tap_check "kmemleak is on" test -w "$KML"

r=$(dmesg | debug_blocks)
if [ -z "$r" ]; then
	tap_ok "no checker report while booting"
else
	tap_fail "no checker report while booting"
	printf '%s\n' "$r"
fi

if [ -w "$KML" ]; then
	n=$(kmemleak_scan)
	diag "kmemleak: $n object(s) unreferenced after boot: not counted, cleared now"
	grep -A 14 -m 3 '^unreferenced object' "$KML" | sed 's/^/# boot: /'
	tap_check "kmemleak baseline cleared" sh -c "echo clear >$KML"
fi
# debug-end.t reads the log from here on.
dmesg_mark debug
