# SPDX-License-Identifier: GPL-2.0
# make demo: load the module, run a small workload that fails in the ways the
# module explains, then show /proc/tcpconndiag and the module's kernel log.
# tcd-timeout: 240

say() { echo "==== $*"; }

dmesg_mark demo
say "demo begin: kernel $(uname -r)"
load_module || { tap_fail "demo: load module"; exit 0; }
say "workload: 20 successful loopback connects, 3 refused, 1 timeout"
tcd-conn ok 20 >/dev/null
tcd-conn refused 3 >/dev/null
tcd-conn timeout 1
if [ -x /progs/tcd-poison ] || command -v tcd-poison >/dev/null 2>&1; then
	say "workload: connect()/send() race on one socket (poisons it on sk_wait_pending kernels)"
	tcd-poison race 2 2>&1 | tail -n 4
fi
if command -v tcd-eaddr >/dev/null 2>&1; then
	say "workload: ephemeral port exhaustion (ip_local_port_range 40000 40007)"
	old=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	echo "40000 40007" >/proc/sys/net/ipv4/ip_local_port_range
	tcd-eaddr exhaust 10 2>&1 | tail -n 2
	echo "$old" >/proc/sys/net/ipv4/ip_local_port_range
fi
if command -v tcd-saddr >/dev/null 2>&1 && load_netmod dummy; then
	say "workload: source address deleted 1 s into a handshake (TCP_SYNCNT=2)"
	ip link add demo0 type dummy && ip link set demo0 up
	ip addr add 192.0.2.1/24 dev demo0
	(sleep 1; ip addr del 192.0.2.1/24 dev demo0) &
	tcd-saddr --src 192.0.2.1 --dst 192.0.2.2 --syncnt 2 2>&1 | tail -n 2
	wait
	ip link del demo0
fi
say "cat /proc/tcpconndiag"
cat /proc/tcpconndiag
say "dmesg | grep tcpconndiag"
dmesg_since_mark demo | grep 'tcpconndiag:'
unload_module
say "demo end"
tap_ok "demo ran"
