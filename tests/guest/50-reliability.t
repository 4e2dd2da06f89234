# SPDX-License-Identifier: GPL-2.0
# Reliability (issue 4): load/unload 100 times under a connect storm, table
# overflow with exact eviction accounting and no leak, and sockets with rows
# destroyed at a high rate (the table keeps copies, never live pointers).
# panic_on_warn=1 is on the kernel command line: any WARN ends the run.
# Settings (tcd_env=): TCD_REL_CYCLES (default 100), TCD_REL_VERBOSE=1 (one
# diagnostic line per insmod/rmmod, to place a crash).
# Note: under QEMU's multi-threaded TCG (the default -accel tcg), part 1
# also crashes or locks up the guest with a control module whose probe
# handlers do nothing (RIP 0 in __inet_stream_connect's patched entry on all
# three kernels): an emulator problem with kernel text patched while other
# vCPUs run it. It passes with -accel tcg,thread=single.
# tcd-timeout: 900
# tcd-accel: single

P=/proc/tcpconndiag
T=/tmp/rel
mkdir -p $T
CYCLES=${TCD_REL_CYCLES:-100}
# The cycle that reads a /proc fd across rmmod: 50, or the middle of fewer.
FD_CYCLE=$((CYCLES < 100 ? (CYCLES + 1) / 2 : 50))



# outcome FILE KIND ERR: a tcd-storm outcome count (0 if none).
outcome() {
	_n=$(sed -n "s/^outcome kind=$2 err=$3 count=\([0-9]*\)$/\1/p" "$1")
	echo "${_n:-0}"
}

# kernel_clean DESC: no warning/oops in the kernel log.
kernel_clean() {
	_bad=$(kernel_reports)
	if [ -z "$_bad" ]; then tap_ok "$1"; else tap_fail "$1" "$(echo "$_bad" | head -n 20)"; fi
}

unload_module

# ---- 1. insmod/rmmod under a connect storm ---------------------------------
# Every kind of connect outcome in flight while the probes come and go; a
# reader and a "clear" writer hammer /proc; parameters vary per cycle (tiny
# table, tiny kretprobe pools that must miss, alert limit of 1). The storm's
# own deadline is only a safety net: the loop stops it. 100 cycles took 261
# to 562 s on the matrix before the loop was reniced (below), so the net sits
# at 700 s, under the test's 900 s (both times the debug kernel's scale: its
# 16 cycles took 810 s on a busy host).
tcd-storm mix -t $((700 * ${TCD_TIMEOUT_SCALE:-1})) -p 1 -6 \
	-k ok:2,refused:1,timeout:2,poison:2,exhaust:1,sender:2,shutdown:1,churn:1 \
	>$T/storm.out 2>&1 &
spid=$!
rm -f $T/stop
(
	while [ ! -e $T/stop ]; do
		cat $P >/dev/null 2>&1
		echo clear 2>/dev/null >$P
		usleep 20000
	done
) &
rpid=$!
sleep 2

# The loop (insmod, rmmod and their waits) outranks the storm's CPU-bound
# threads: at equal weight the guest's CPUs went mostly to those, and 100
# cycles took up to 562 s (20 cycles: 125 s, 69 s with this). The storm keeps
# running whenever the loop waits, so probes still come and go under load
# (more connect hits while loaded, not fewer).
renice -n -10 -p $$ >/dev/null
i=0
fail_msg=
hits_total=0
t0=$(cut -d. -f1 /proc/uptime)
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	case $((i % 4)) in
	0) args="capacity=16" ;;
	1) args= ;;
	2) args="capacity=64 maxactive=8 maxactive_short=4" ;;
	3) args="alert_burst=1 alert_interval=1" ;;
	esac
	[ -n "${TCD_REL_VERBOSE:-}" ] && diag "cycle $i: insmod $args"
	# shellcheck disable=SC2086 # args is a word list
	if ! out=$(insmod "$TCD_MODULE" $args 2>&1); then
		fail_msg="cycle $i: insmod $args failed: $out"
		break
	fi
	if ! [ -f $P ]; then
		fail_msg="cycle $i: no $P after insmod"
		break
	fi
	if [ "$i" -eq "$FD_CYCLE" ]; then
		# A reader holding the file open across rmmod: later reads fail, no crash.
		exec 3<$P
		head -c 100 <&3 >/dev/null
	fi
	usleep $(((i % 5) * 60000))
	h=$(probe hits __inet_stream_connect)
	[ -n "${TCD_REL_VERBOSE:-}" ] && diag "cycle $i: rmmod (connect hits $h)"
	hits_total=$((hits_total + ${h:-0}))
	if ! out=$(rmmod tcpconndiag 2>&1); then
		fail_msg="cycle $i: rmmod failed: $out; $(grep '^tcpconndiag ' /proc/modules)"
		break
	fi
	if module_loaded tcpconndiag || [ -e $P ]; then
		fail_msg="cycle $i: still loaded after rmmod"
		break
	fi
	if [ "$i" -eq "$FD_CYCLE" ]; then
		if cat <&3 >/dev/null 2>$T/fd3.err; then
			fail_msg="cycle $i: read of a /proc fd opened before rmmod succeeded"
			break
		fi
		diag "read from a /proc fd opened before rmmod: $(cat $T/fd3.err)"
		exec 3<&-
	fi
done
secs=$(($(cut -d. -f1 /proc/uptime) - t0))
if [ -z "$fail_msg" ]; then
	tap_ok "insmod/rmmod $CYCLES times under a connect storm (${secs}s)"
else
	tap_fail "insmod/rmmod $CYCLES times under a connect storm" "$fail_msg"
	unload_module
fi
diag "connect probe hits summed over cycles: $hits_total"
if [ "$hits_total" -gt 0 ]; then
	tap_ok "probes fired while loaded (connect hits $hits_total)"
else
	tap_fail "probes fired while loaded" "no __inet_stream_connect hits in $i cycles"
fi
touch $T/stop
wait $rpid
kill -TERM $spid 2>/dev/null
wait $spid
src=$?
diag "$(cat $T/storm.out)"
if [ "$src" -eq 0 ] && grep -q '^storm .*stopped_by=signal' $T/storm.out; then
	tap_ok "storm ran for the whole loop and stopped on request"
else
	tap_fail "storm ran for the whole loop and stopped on request" "exit $src" \
		"$(tail -n 5 $T/storm.out)"
fi
# Every kind of outcome really happened during the cycles.
for k in "ok 0" "refused ECONNREFUSED" "timeout ETIMEDOUT" "exhaust-b EADDRNOTAVAIL" \
	"sender-send EAGAIN" "poison-connect ETIMEDOUT"; do
	set -- $k
	n=$(outcome $T/storm.out "$1" "$2")
	if [ "$n" -gt 0 ]; then
		tap_ok "storm: $1 $2 happened ($n)"
	else
		tap_fail "storm: $1 $2 happened" "count 0"
	fi
done
if [ "$(kver)" = 5.10 ]; then
	diag "poisoned reconnects (EINVAL) on 5.10: $(outcome $T/storm.out poison-reconnect EINVAL)," \
		"shutdown EBUSY: $(outcome $T/storm.out shutdown EBUSY)"
fi
kernel_clean "no warning or oops after the load/unload cycles"

# ---- 2. table overflow --------------------------------------------------------
# capacity=16, N sockets that each lose their source address: every
# saddr-lost event on an untracked socket creates a row, so with nothing else
# running, rows created == the saddr-lost counter's increase, and the table
# must hold exactly 16 with evictions == created - 16.
N=40
tap_check "dummy module loads" load_netmod dummy || exit 0
dev_v4 tcdrel0 192.0.2.1/24 || tap_fail "dummy device tcdrel0" "$(ip addr)"
tap_check "load with capacity=16" load_module capacity=16 || exit 0
mem0=$(grep '^memory:' $P)
c0=$(counter saddr-lost)
rm -f $T/ov.stop
# TCP_SYNCNT=1: one retransmit at 1 s (fails: the address is gone), give-up at 3 s.
tcd-storm hold -n $N -s 1 -b 192.0.2.1 -x "ip addr del 192.0.2.1/24 dev tcdrel0" \
	-W $T/ov.stop -w 120 192.0.2.2 80 >$T/ov.out 2>&1 &
hpid=$!
# Wait until every socket gave up (3 s) and the counter stopped moving.
j=0
last=-1
while [ $j -lt 40 ]; do
	sleep 1
	now=$(counter saddr-lost)
	grep -q '^held' $T/ov.out && [ "$j" -ge 5 ] && [ "$now" = "$last" ] && break
	last=$now
	j=$((j + 1))
done
diag "$(cat $T/ov.out)"
created=$(($(counter saddr-lost) - c0))
used=$(table used)
ev=$(table evictions)
diag "sockets=$N rows created (saddr-lost events)=$created used=$used evictions=$ev"
diag "$(grep -c '^sock: ' $P) sock: rows listed"
tap_check "all $N connects in progress" grep -q "^connected n=$N einprogress=$N other=0" $T/ov.out
if [ "$created" -gt 16 ]; then
	tap_ok "more rows created than the capacity ($created > 16)"
else
	tap_fail "more rows created than the capacity" "only $created saddr-lost events"
fi
is "table full: used=16" "$used" 16
is "evictions == rows created - 16" "$ev" "$((created - 16))"
is "16 sock: rows listed" "$(grep -c '^sock: ' $P)" 16
# A retransmit hit the kernel dropped (softirq recursion, see lib.sh) is a
# socket without its event; together they cover every socket.
rm_=$(probe nmissed tcp_retransmit_skb)
if [ $((created + ${rm_:-0})) -ge $N ]; then
	tap_ok "every socket got saddr-lost or a counted retransmit miss ($created + $rm_ >= $N)"
else
	tap_fail "every socket got saddr-lost or a counted retransmit miss" "$created + $rm_ < $N"
fi
is "memory line unchanged" "$(grep '^memory:' $P)" "$mem0"
# Close every socket: all rows go, none leaks.
touch $T/ov.stop
wait $hpid
rows_outlived_ok "after closing all sockets"
is "sock: rows listed == used" "$(grep -c '^sock: ' $P)" "$(table used)"
is "evictions unchanged by the closes" "$(table evictions)" "$ev"
ip link del tcdrel0

# ---- 3. sockets with rows destroyed at a high rate ------------------------------
# Two sources of rows, at once, with capacity=16 (evictions mix in):
# - churn threads: each socket gets a row from a sender waiting in send()
#   on its connect, then is left alone, disconnected under the sender
#   (connect(AF_UNSPEC): a disconnect-ebusy row on 5.10), closed by another
#   thread, or shut down under it, and destroyed;
# - rounds of 50 sockets that lose their source address (saddr-lost rows
#   with events), held 5 s, then closed together.
# The allocator hands the freed sockets' memory to the next ones, so a row
# that outlived its socket would be found again by a new socket's address.
# A reader lists /proc all the time.
echo clear >$P
d0=$(probe hits tcp_destroy_sock)
dm0=$(probe nmissed tcp_destroy_sock)
s0=$(counter saddr-lost)
rm -f $T/stop $T/used.log
(
	while [ ! -e $T/stop ]; do
		u=$(sed -n 's/^table: used=\([0-9]*\) .*/\1/p' $P)
		echo "${u:-0}" >>$T/used.log
		cat $P >/dev/null
		usleep 50000
	done
) &
rpid=$!
dev_v4 tcdrel1 || tap_fail "dummy device tcdrel1"
tcd-storm mix -t 35 -6 -k churn:4 >$T/churn.out 2>&1 &
cpid=$!
ROUNDS=6
r=0
held=0
while [ $r -lt $ROUNDS ]; do
	r=$((r + 1))
	ip addr add 198.51.100.1/24 dev tcdrel1
	# TCP_SYNCNT=2: retransmits at 1 s and 3 s, so a late address delete still hits.
	tcd-storm hold -n 50 -s 2 -b 198.51.100.1 -x "ip addr del 198.51.100.1/24 dev tcdrel1" \
		-w 5 198.51.100.2 80 >$T/round$r.out 2>&1
	n=$(sed -n 's/^connected n=\([0-9]*\) einprogress=\([0-9]*\) .*/\2/p' $T/round$r.out)
	held=$((held + ${n:-0}))
done
wait $cpid
crc=$?
touch $T/stop
wait $rpid
ip link del tcdrel1
diag "$(cat $T/churn.out)"
maxused=$(sort -n $T/used.log | tail -n 1)
sockets=$(sed -n 's/^storm .*sockets=\([0-9]*\).*/\1/p' $T/churn.out)
if [ "$crc" -eq 0 ] && [ "${sockets:-0}" -gt 100 ]; then
	tap_ok "churn: $sockets sockets opened and closed"
else
	tap_fail "churn: sockets opened and closed" "exit $crc, sockets=${sockets:-none}"
fi
is "saddr rounds: every connect in progress" "$held" $((ROUNDS * 50))
lost=$(($(counter saddr-lost) - s0))
if [ "$lost" -ge "$held" ]; then
	tap_ok "saddr rounds: every socket got a row with an event ($lost saddr-lost >= $held)"
else
	tap_fail "saddr rounds: every socket got a row with an event" "saddr-lost $lost < $held"
fi
if [ "${maxused:-0}" -gt 0 ]; then
	tap_ok "rows existed during the churn (up to $maxused at once)"
else
	tap_fail "rows existed during the churn" "used= never above 0 in $(wc -l <$T/used.log) samples"
fi
if [ "$(kver)" = 5.10 ]; then
	n=$(counter disconnect-ebusy)
	if [ "${n:-0}" -gt 0 ]; then
		tap_ok "churn: disconnect-ebusy rows from disconnects under a sender ($n)"
	else
		tap_fail "churn: disconnect-ebusy rows from disconnects under a sender" "counter ${n:-missing}"
	fi
else
	diag "churn: sender-epipe rows: $(counter sender-epipe)"
fi
total=$((${sockets:-0} + held))
dh=$(($(probe hits tcp_destroy_sock) - d0))
dm=$(($(probe nmissed tcp_destroy_sock) - dm0))
if [ $((dh + dm)) -ge "$total" ]; then
	tap_ok "every socket was destroyed through the tracepoint ($dh hits + $dm dropped >= $total)"
else
	tap_fail "every socket was destroyed through the tracepoint" "destruct hits $dh + dropped $dm < $total"
fi
rows_outlived_ok "afterwards"
is "afterwards: sock: rows listed == used" "$(grep -c '^sock: ' $P)" "$(table used)"
diag "evictions during the churn: $(table evictions)"
tap_check "unload after the churn" unload_module
kernel_clean "no warning or oops after the churn"
