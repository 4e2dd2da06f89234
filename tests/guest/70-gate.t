# SPDX-License-Identifier: GPL-2.0
# "tcpconndiag gate" (tools/tcpconndiag, bundled at /usr/sbin/): mark, a clean
# workload (refused connects: connect-failed alerts on modules that print
# them, which do not fail the gate by default) -> check passes; port
# exhaustion -> check fails and counts the alert; a fresh mark -> check
# passes again.
# tcd-timeout: 90

G=/usr/sbin/tcpconndiag
R=/proc/sys/net/ipv4/ip_local_port_range
export TCD_GATE_STATE=/tmp/tcd-gate/mark

tap_check "command bundled at $G" test -x $G || exit 0
# A fresh load: no rate-limit budget spent by earlier tests.
unload_module
tap_check "module loads" load_module || exit 0

# gate_run NAME ARGS...: run the gate, leave its output in /tmp/gate.NAME, return its status.
gate_run() {
	_n=$1
	shift
	sh $G gate "$@" >/tmp/gate."$_n" 2>&1
}

# gate_clean NAME DESC: "check" must exit 0 and say there were no alerts.
gate_clean() {
	gate_run "$1" check
	_rc=$?
	if [ "$_rc" -eq 0 ] && grep -q 'no tcpconndiag alerts' /tmp/gate."$1"; then
		tap_ok "$2"
	else
		tap_fail "$2" "exit $_rc" "$(cat /tmp/gate."$1")"
	fi
}

# 1. No alerts since the mark.
gate_run mark1 mark
tap_check "mark exits 0" test $? -eq 0
tap_check "mark is in the kernel log" sh -c "dmesg | grep -qF '$(cat $TCD_GATE_STATE 2>/dev/null)'"
tcd-conn ok 5 >/dev/null
tcd-conn refused 3 >/dev/null
gate_clean clean "clean workload: check exits 0, no alerts"

# 2. Ephemeral ports exhausted: 4 ports, 5 held connections.
old=$(cat $R)
trap 'echo "$old" >$R' EXIT
echo "40000 40003" >$R
tcd-hold -p 5000 -n 5 >/tmp/hold.out 2>&1
echo "$old" >$R
tap_check "sysctl restored ($(echo $old))" test "$(cat $R)" = "$old"
nfail=$(grep -c 'err=EADDRNOTAVAIL' /tmp/hold.out)
if [ "$nfail" -ge 1 ] && grep -q '^connect 4 err=EADDRNOTAVAIL' /tmp/hold.out; then
	tap_ok "5th connect with 4 ports fails EADDRNOTAVAIL"
else
	tap_fail "5th connect with 4 ports fails EADDRNOTAVAIL" "$(cat /tmp/hold.out)"
fi
nlog=$(dmesg | sed -n "/$(cat $TCD_GATE_STATE)/,\$p" | grep -c 'tcpconndiag: eaddrnotavail ')
gate_run alert check
rc=$?
if [ "$rc" -eq 1 ] && [ "$nlog" -ge 1 ] &&
	grep -q "^tcpconndiag gate: $nlog tcpconndiag alert(s):" /tmp/gate.alert &&
	grep -qx "  eaddrnotavail: $nlog" /tmp/gate.alert; then
	tap_ok "alert: check exits 1 and counts $nlog eaddrnotavail"
else
	tap_fail "alert: check exits 1 and counts the eaddrnotavail alerts" \
		"exit $rc, $nlog alert line(s) in the log" "$(cat /tmp/gate.alert)" \
		"kernel log lines naming eaddrnotavail (alerts must start 'tcpconndiag: '):" \
		"$(dmesg | grep 'eaddrnotavail ' | tail -n 3)"
fi
tap_check "summary quotes the alert line" grep -q '^  .*tcpconndiag: eaddrnotavail .*cause=ephemeral-exhausted' /tmp/gate.alert
gate_run allow check --allow eaddrnotavail
tap_check "check --allow eaddrnotavail exits 0" test $? -eq 0

# 3. A fresh mark forgets the old alerts.
gate_run mark2 mark
gate_clean clean2 "after a fresh mark: check exits 0"

tap_check "module unloads" unload_module
