# SPDX-License-Identifier: GPL-2.0
# A socket destruction the module missed must not hand a dead socket's row
# to the next socket the slab puts at the same address. The destruction is
# the tcp_destroy_sock tracepoint, which drops nothing; here every one is
# dropped on purpose by the module's test hook (parameter
# test_drop_destroy=1) while sockets with rows close. New sockets are then
# created and /proc/net/tcp tells which of them really reuse a dead one's
# address: exactly those must find a stale row, drop it and start their own.
# Phase 5 does the same with rows made while their sockets were orphans
# (no struct socket): rows know their socket by its cookie, which every
# socket has, where an inode number would have been 0 and skipped.
# Single-threaded TCG (see run.sh), both programs on one CPU: the slab hands
# out that CPU's freed objects first.
# tcd-timeout: 400
# tcd-accel: single

P=/proc/tcpconndiag
T=/tmp/stale
mkdir -p $T
DROP=/sys/module/tcpconndiag/parameters/test_drop_destroy
N=24
PIN=
command -v taskset >/dev/null && PIN="taskset -c 0"

# syn_sent_socks: the sock addresses of the SYN_SENT sockets in /proc/net/tcp.
syn_sent_socks() {
	awk '$4 == "02" { print $12 }' /proc/net/tcp | sort -u
}

tap_check "dummy module loads" load_netmod dummy || exit 0
dev_v4 tcdst0 192.0.2.1/24 || tap_fail "dummy device tcdst0" "$(ip addr)"
tap_check "module loads" load_module || exit 0
tap_check "the test hook is there: $DROP" test -w $DROP || exit 0
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

# ---- 2. close them with destructions dropped: their rows stay ----------------------
d0=$(probe hits tcp_destroy_sock)
echo 1 >$DROP
touch $T/a.stop
wait $apid
sleep 1
echo 0 >$DROP
diag "$(cat $T/a.out | tr '\n' ' ')"
cmp_ok "phase 2: the $N destructions reached the tracepoint (and were dropped)" \
	"$(($(probe hits tcp_destroy_sock) - d0))" '>=' $N
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

# ---- 5. rows made for orphans ------------------------------------------------------
# K connections to a peer in its own netns behind a veth pair. Once all are
# up, the peer's link goes down (nothing is acked), each sends and closes
# after a 1 s recv() timeout: K orphans in FIN_WAIT1, retransmitting. Our
# address goes: their re-routes fail and make saddr-lost rows while
# sk_socket is NULL. TCP_USER_TIMEOUT kills them with destructions
# dropped, then new sockets come as in phase 3.
K=6
# Their TCP_USER_TIMEOUT must outlast the checks below, or they die before
# destructions are dropped: 10 s, times the debug kernel's scale (there 10 s ran out
# first: 6 rows made, 1 left when read).
UTO=$((10000 * ${TCD_TIMEOUT_SCALE:-1}))
orph_ok=
NS_PID=
netns_veth tcdso0 && $NS ip addr add 198.51.100.2/24 dev "$NS_PEER" &&
	$NS ip link set "$NS_PEER" up &&
	ip addr add 198.51.100.1/24 dev tcdso0 && ip link set tcdso0 up && orph_ok=1
peer=${NS_PEER:-}
nspid=$NS_PID
ns=${NS:-}
if [ -z "$orph_ok" ]; then
	tap_fail "phase 5: veth pair into a network namespace" "peer '$peer', pid $nspid"
else
	$ns tcd-saddr listen 198.51.100.2 8080 >$T/peer.out 2>&1 &
	wait_line $T/peer.out ^listening 100
	rm -f $T/down
	c0=$(counter saddr-lost)
	s0=$(table stale)
	opids=
	k=0
	while [ $k -lt $K ]; do
		# One CPU for all, so their timers, frees and the new sockets meet.
		$PIN tcd-saddr established -m orph$k -b 198.51.100.1 -u $UTO -w 1 \
			-y "while [ ! -e $T/down ]; do usleep 50000; done" \
			198.51.100.2 8080 >$T/orph$k.out 2>&1 &
		opids="$opids $!"
		k=$((k + 1))
	done
	i=0
	while [ "$(cat $T/orph*.out | grep -c '^connected .*err=0 ')" -lt $K ] && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	$ns ip link set "$peer" down
	touch $T/down
	for p in $opids; do
		wait "$p"
	done
	ip addr del 198.51.100.1/24 dev tcdso0
	# The orphans: FIN_WAIT1 (04) sockets of ours, by address.
	awk '$4 == "04" && $2 ~ /^016433C6:/ { print $12 }' /proc/net/tcp | sort -u >$T/orph
	diag "orphans: $(cat $T/orph | tr '\n' ' ')"
	is "phase 5: $K connections made, then closed by their programs" \
		"$(cat $T/orph*.out | grep -c '^connected .*err=0 ')/$(cat $T/orph*.out | grep -c '^recv-end ')" \
		"$K/$K"
	is "phase 5: $K orphans in FIN_WAIT1" "$(grep -c . $T/orph)" $K
	j=0
	while [ $j -lt 60 ] && [ $(($(counter saddr-lost) - c0)) -lt $K ]; do
		usleep 250000
		j=$((j + 1))
	done
	is "phase 5: the orphans' re-routes made $K saddr-lost rows" \
		"$(($(counter saddr-lost) - c0))/$(grep -c '^sock: .* dst=198\.51\.100\.2:8080 ' $P)" \
		"$K/$K"
	is "phase 5: those rows are for FIN_WAIT1 sockets" \
		"$(grep '^sock: .* dst=198\.51\.100\.2:8080 ' $P | grep -c ' lost_state=FIN_WAIT1 ')" $K

	# They die of TCP_USER_TIMEOUT while destructions are dropped.
	d0=$(probe hits tcp_destroy_sock)
	echo 1 >$DROP
	j=0
	while [ $j -lt $((120 * ${TCD_TIMEOUT_SCALE:-1})) ] &&
		[ "$(awk '{ print $12 }' /proc/net/tcp | grep -c -x -F -f $T/orph)" -gt 0 ]; do
		usleep 250000
		j=$((j + 1))
	done
	echo 0 >$DROP
	is "phase 5: the orphans are gone" \
		"$(awk '{ print $12 }' /proc/net/tcp | grep -c -x -F -f $T/orph)" 0
	cmp_ok "phase 5: the $K destructions reached the tracepoint (and were dropped)" \
		"$(($(probe hits tcp_destroy_sock) - d0))" '>=' $K
	is "phase 5: their $K rows are still there, stale unchanged" \
		"$(table used)/$(($(table stale) - s0))" "$K/0"

	# New sockets at their addresses must not inherit their rows.
	ip addr add 192.0.2.5/24 dev tcdst0
	rm -f $T/c.stop
	c0=$(counter saddr-lost)
	$PIN tcd-storm hold -n $N -s 3 -b 192.0.2.5 -x "ip addr del 192.0.2.5/24 dev tcdst0" \
		-W $T/c.stop -w 60 192.0.2.100 82 >$T/c.out 2>&1 &
	cpid=$!
	# Their addresses at once: a socket whose row was inherited gets no
	# alert, so waiting for all N alerts could outlast its SYN_SENT.
	j=0
	while [ $j -lt 40 ] && [ "$(syn_sent_socks | grep -c .)" -lt $N ]; do
		usleep 100000
		j=$((j + 1))
	done
	syn_sent_socks >$T/new5
	j=0
	while [ $j -lt 80 ] && [ $(($(counter saddr-lost) - c0)) -lt $N ]; do
		usleep 250000
		j=$((j + 1))
	done
	reused=$(grep -c -x -F -f $T/orph $T/new5)
	diag "new sockets: $(grep -c . $T/new5), at an orphan's address: $reused"
	is "phase 5: $N new SYN_SENT sockets, each with its own saddr-lost" \
		"$(grep -c . $T/new5)/$(($(counter saddr-lost) - c0))" "$N/$N"
	is "phase 5: stale rows dropped == new sockets at an orphan's address" \
		"$(($(table stale) - s0))" "$reused"
	if [ "$reused" -eq 0 ]; then
		tap_skip "phase 5: an orphan's row met a new socket" "the slab reused no address this time"
	else
		tap_ok "phase 5: an orphan's row met a new socket ($reused)"
	fi
	is "phase 5: rows with dst port 82, all saddr-lost only" \
		"$(grep -c '^sock: .* dst=192\.0\.2\.[0-9]*:82 ' $P)/$(grep '^sock: .* dst=192\.0\.2\.[0-9]*:82 ' $P | grep -c ' events=saddr-lost ')" \
		"$N/$N"
	is "phase 5: orphan rows left == orphans whose address was not reused" \
		"$(grep -c '^sock: .* dst=198\.51\.100\.2:8080 ' $P)" $((K - reused))
	touch $T/c.stop
	wait $cpid
	wait_used $((K - reused)) 20
	is "phase 5: the new sockets' rows went with them" "$(grep -c '^sock: .*:82 ' $P)" 0
	echo clear >$P
	is "phase 5: clear removes the rest" "$(table used)" 0
fi
[ -n "$nspid" ] && kill "$nspid" 2>/dev/null
ip link del tcdso0 2>/dev/null

echo "$old_kptr" >/proc/sys/kernel/kptr_restrict
ip link del tcdst0
tap_check "module unloads" unload_module
