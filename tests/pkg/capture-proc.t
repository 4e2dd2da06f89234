# SPDX-License-Identifier: GPL-2.0
# Capture a real /proc/tcpconndiag for tests/data/ (tests/host/prometheus.sh
# reads it): refused, timed-out and EADDRNOTAVAIL connects (IPv4 and IPv6),
# then a source-address stall (tcd-saddr), read while that socket is still
# open so its sock: row shows.
# Each line of the file is printed as "PROC| line"; regenerate with
#   tests/run-guest.sh 6.1 tests/pkg/capture-proc.t
#   sed -n 's/^PROC| //p' build/logs/6.1.log >tests/data/proc-6.1.txt
# tcd-timeout: 60

R=/proc/sys/net/ipv4/ip_local_port_range
tap_check "module loads" load_module || exit 0
tcd-conn ok 5 >/dev/null
tcd-conn refused 4 >/dev/null
tcd-conn refused 2 -6 >/dev/null
tcd-conn timeout 1 >/dev/null
old=$(cat $R)
echo "40000 40003" >$R
tcd-hold -6 -p 5001 -n 6 >/tmp/hold6.out
tcd-hold -p 5000 -n 6 >/tmp/hold.out
echo "$old" >$R
cp /proc/tcpconndiag /tmp/proc.txt
if command -v tcd-saddr >/dev/null && load_netmod dummy; then
	ip link add tcd0 type dummy && ip link set tcd0 up && ip addr add 192.0.2.1/24 dev tcd0
	tcd-saddr connect -b 192.0.2.1 -n 2 -x 1 'ip addr del 192.0.2.1/24 dev tcd0' \
		-p /tmp/proc.txt 192.0.2.2 80 | sed 's/^/# /'
	ip link del tcd0
fi
sed 's/^/PROC| /' /tmp/proc.txt
tap_check "captured sock: rows" grep -q '^sock: ' /tmp/proc.txt
tap_check "captured eaddrnotavail-dest lines" grep -q '^eaddrnotavail-dest: ' /tmp/proc.txt
tap_check "module unloads" unload_module
