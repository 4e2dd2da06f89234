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
say "workload: connect() times out while another thread is blocked in send() on the same socket"
mkdir -p /tmp/demo-poison
tcd-poison race -s /tmp/demo-poison 2 2>&1 | tail -n 2
say "workload: shutdown() from another thread during a blocking connect()"
tcd-poison shutdown 1 2>&1 | tail -n 1
say "workload: ephemeral port exhaustion (ip_local_port_range 40000 40007)"
old=$(cat /proc/sys/net/ipv4/ip_local_port_range)
echo "40000 40007" >/proc/sys/net/ipv4/ip_local_port_range
tcd-eaddr exhaust 10 2>&1 | tail -n 1
echo "$old" >/proc/sys/net/ipv4/ip_local_port_range
if load_netmod dummy; then
	say "workload: source address deleted 1 s into a handshake (TCP_SYNCNT=2)"
	ip link add demo0 type dummy && ip link set demo0 up
	ip addr add 192.0.2.1/24 dev demo0
	tcd-saddr connect -b 192.0.2.1 -n 2 -x 1 "ip addr del 192.0.2.1/24 dev demo0" \
		-p /tmp/demo-saddr.proc 192.0.2.2 80 2>&1 | grep -E '^(connect-end|result)' | tail -n 1
	ip link del demo0
fi
say "/proc rows of those sockets, read while they were still open"
cat /tmp/demo-poison/* /tmp/demo-saddr.proc 2>/dev/null | grep '^sock:' | sort -u
say "cat /proc/tcpconndiag"
cat /proc/tcpconndiag
say "dmesg | grep tcpconndiag"
dmesg_since_mark demo | grep 'tcpconndiag:'
unload_module
say "demo end"
tap_ok "demo ran"
