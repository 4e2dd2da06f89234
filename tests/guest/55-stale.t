# SPDX-License-Identifier: GPL-2.0
# A dropped inet_sock_destruct hit must not hand a dead socket's row to the
# next socket the slab puts at the same address. The kernel drops such hits
# when they interrupt another kprobe's handler (nmissed, rare); here every
# destruct is dropped on purpose by disarming all kprobes (debugfs
# kprobes/enabled=0) while sockets with rows close. New sockets are then
# created and /proc/net/tcp tells which of them really reuse a dead one's
# address: exactly those must find a stale row, drop it and start their own.
# Disarming kprobes patches kernel text: single-threaded TCG (see run.sh).
# tcd-timeout: 240
# tcd-accel: single

P=/proc/tcpconndiag
T=/tmp/stale
mkdir -p $T
KP=/sys/kernel/debug/kprobes/enabled
N=24
PIN=
command -v taskset >/dev/null && PIN="taskset -c 0"

# syn_sent_socks: the sock addresses of the SYN_SENT sockets in /proc/net/tcp.
syn_sent_socks() {
	awk '$4 == "02" { print $12 }' /proc/net/tcp | sort -u
}

if [ ! -w $KP ]; then
	tap_skip "stale rows" "no $KP (debugfs)"
	exit 0
fi
tap_check "dummy module loads" load_netmod dummy || exit 0
dev_v4 tcdst0 192.0.2.1/24 || tap_fail "dummy device tcdst0" "$(ip addr)"
tap_check "module loads" load_module || exit 0
old_kptr=$(cat /proc/sys/kernel/kptr_restrict)
# 1: root sees real pointers in /proc/net/tcp (0 would hash them).
echo 1 >/proc/sys/kernel/kptr_restrict

# ---- 1. N sockets with saddr-lost rows -------------------------------------------
# TCP_SYNCNT=3: the first retransmit (1 s) fails and creates the row, the
# give-up comes at 15 s, so the sockets stay SYN_SENT while we look.
rm -f $T/a.stop
# Both programs on one CPU: the slab hands out that CPU's freed objects first.
$PIN tcd-storm hold -n $N -s 3 -b 192.0.2.1 -x "ip addr del 192.0.2.1/24 dev tcdst0" \
	-W $T/a.stop -w 60 192.0.2.2 80 >$T/a.out 2>&1 &
apid=$!
wait_used $N 20
syn_sent_socks >$T/old
is "phase 1: $N rows (saddr-lost)" "$(table used)" $N
is "phase 1: $N SYN_SENT sockets in /proc/net/tcp" "$(grep -c . $T/old)" $N
is "phase 1: rows have dst port 80" "$(grep -c '^sock: .* dst=192\.0\.2\.[0-9]*:80 ' $P)" $N

# ---- 2. close them with every kprobe disarmed: their destructs are missed --------
d0=$(probe hits inet_sock_destruct)
echo 0 >$KP
touch $T/a.stop
wait $apid
sleep 1
echo 1 >$KP
diag "$(cat $T/a.out | tr '\n' ' ')"
is "phase 2: no destruct seen while disarmed" "$(probe hits inet_sock_destruct)" "$d0"
is "phase 2: the $N dead sockets' rows are still there" "$(table used)" $N
is "phase 2: stale=0 so far" "$(table stale)" 0

# ---- 3. new sockets, armed again --------------------------------------------------
# Their connect() looks the table up; their first failed retransmit makes rows.
ip addr add 192.0.2.3/24 dev tcdst0
rm -f $T/b.stop
$PIN tcd-storm hold -n $N -s 3 -b 192.0.2.3 -x "ip addr del 192.0.2.3/24 dev tcdst0" \
	-W $T/b.stop -w 60 192.0.2.100 81 >$T/b.out 2>&1 &
bpid=$!
# Wait for all new rows: each is a saddr-lost event.
c0=$(counter saddr-lost)
j=0
while [ $j -lt 80 ] && [ $(($(counter saddr-lost) - c0)) -lt $N ]; do
	usleep 250000
	j=$((j + 1))
done
syn_sent_socks >$T/new
reused=$(grep -c -x -F -f $T/old $T/new)
diag "new sockets: $(grep -c . $T/new), at a dead socket's address: $reused"
is "phase 3: $N new SYN_SENT sockets" "$(grep -c . $T/new)" $N
is "phase 3: stale rows dropped == new sockets at a dead socket's address" \
	"$(table stale)" "$reused"
if [ "$reused" -eq 0 ]; then
	tap_skip "phase 3: the stale path ran" "the slab reused no address this time"
else
	tap_ok "phase 3: the stale path ran ($reused)"
fi
# Each new socket has its own row, with its own destination and nothing else.
is "phase 3: rows with dst port 81" "$(grep -c '^sock: .* dst=192\.0\.2\.[0-9]*:81 ' $P)" $N
is "phase 3: those rows carry only saddr-lost" \
	"$(grep '^sock: .* dst=192\.0\.2\.[0-9]*:81 ' $P | grep -c ' events=saddr-lost ')" $N
is "phase 3: dead rows left == dead sockets whose address was not reused" \
	"$(grep -c '^sock: .* dst=192\.0\.2\.[0-9]*:80 ' $P)" $((N - reused))
is "phase 3: used" "$(table used)" $((N - reused + N))

# ---- 4. the new sockets close normally; the leftovers go with "clear" -----------
touch $T/b.stop
wait $bpid
wait_used $((N - reused)) 20
is "phase 4: the new sockets' rows went with them" "$(grep -c '^sock: .*:81 ' $P)" 0
is "phase 4: used == unreused dead rows" "$(table used)" $((N - reused))
echo clear >$P
is "phase 4: clear removes them" "$(table used)" 0
echo "$old_kptr" >/proc/sys/kernel/kptr_restrict
ip link del tcdst0
tap_check "module unloads" unload_module
