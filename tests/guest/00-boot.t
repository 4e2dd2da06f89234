# SPDX-License-Identifier: GPL-2.0
# Harness smoke test: the kernel booted into our initramfs, networking basics
# work and the bundled network modules load. Sourced by /init with lib.sh.
# tcd-timeout: 60

diag "uname: $(uname -a)"
if [ "$(uname -r)" = "$(ls /lib/modules)" ]; then
	tap_ok "booted kernel $(uname -r) matches bundled modules"
else
	tap_fail "booted kernel matches bundled modules" \
		"uname -r=$(uname -r), /lib/modules has: $(ls /lib/modules)"
fi
tap_check "panic_on_warn is set" grep -qx 1 /proc/sys/kernel/panic_on_warn

tap_check "/proc/net/tcp readable" grep -q local_address /proc/net/tcp
tap_check "loopback is up" sh -c 'ip link show lo | grep -q "[<,]UP[,>]"'
tap_check "loopback has 127.0.0.1" sh -c 'ip addr show lo | grep -q "inet 127.0.0.1/8"'
tap_check "TCP over 127.0.0.1" tcp-loop
if [ -e /proc/net/if_inet6 ]; then
	tap_check "TCP over ::1" tcp-loop -6
else
	tap_skip "TCP over ::1" "no IPv6"
fi

if tap_check "dummy module loads" load_netmod dummy; then
	tap_check "dummy module load is idempotent" load_netmod dummy
	tap_check "ip link add d0 type dummy" ip link add d0 type dummy &&
		tap_check "d0 comes up" ip link set d0 up &&
		tap_check "ip link del d0" ip link del d0
fi

if tap_check "veth module loads" load_netmod veth; then
	# Busybox ip cannot name the peer; veth then picks vethN itself.
	tap_check "ip link add v0 type veth" ip link add v0 type veth &&
		tap_check "veth pair comes up" sh -c \
			'p=$(ip -o link show | sed -n "s/^[0-9]*: \(veth[0-9]*\)@v0.*/\1/p")
			[ -n "$p" ] && ip link set v0 up && ip link set "$p" up' &&
		tap_check "ip link del v0" ip link del v0
fi

if have_module; then
	if tap_check "tcpconndiag loads" load_module; then
		tap_check "tcpconndiag unloads" unload_module
	fi
else
	tap_skip "tcpconndiag loads" "no build/$(kver)/tcpconndiag.ko"
fi
