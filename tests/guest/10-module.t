# SPDX-License-Identifier: GPL-2.0
# Module core: parameter validation, load/unload, /proc format, probe hits and
# counters checked against what the connect() calls really returned.
# tcd-timeout: 120

P=/proc/tcpconndiag

# probe_hits SYMBOL: the hits= count of that probe line.
probe_hits() {
	sed -n "s/^probe: $1 hits=\([0-9]*\) .*/\1/p" $P
}

# no_alert_since MARK DESC: no diagnosis alert line since the mark.
no_alert_since() {
	_a=$(dmesg_since_mark "$1" | grep 'tcpconndiag: [a-z-]* .*pid=' | diag_alerts)
	if [ -z "$_a" ]; then tap_ok "$2"; else tap_fail "$2" "$_a"; fi
}


# Bad parameters must be refused with a message naming the parameter.
for bad in capacity=0 capacity=99999999 maxactive=0 maxactive_short=0 maxactive=100000; do
	dmesg_mark bad
	if insmod "$TCD_MODULE" "$bad" 2>/dev/null; then
		tap_fail "insmod $bad refused" "insmod succeeded"
		rmmod tcpconndiag
	elif module_loaded tcpconndiag; then
		tap_fail "insmod $bad refused" "module is loaded anyway"
	elif dmesg_since_mark bad | grep -q "tcpconndiag: ${bad%%=*}=.* out of range"; then
		tap_ok "insmod $bad refused with a clear message"
	else
		tap_fail "insmod $bad refused with a clear message" "$(dmesg_since_mark bad)"
	fi
done
tap_check "no /proc file after refused loads" sh -c "! test -e $P"

tap_check "module loads" load_module || exit 0
tap_check "/proc/tcpconndiag exists" test -f $P
mode=$(ls -l $P | cut -c1-10)
if [ "$mode" = "-rw-------" ]; then
	tap_ok "/proc/tcpconndiag is root-only ($mode)"
else
	tap_fail "/proc/tcpconndiag is root-only" "mode $mode"
fi

# Well-formed header.
cat $P >/tmp/proc1 || tap_fail "read /proc/tcpconndiag"
tap_check "header: version" grep -qE '^version: [0-9]+\.[0-9]+\.[0-9]+$' /tmp/proc1
tap_check "header: kernel release is uname -r" grep -qx "kernel: $(uname -r)" /tmp/proc1
case $(kver) in
5.10) guard=sk_wait_pending; verdict=possible ;;
*) guard=sk_disconnects; verdict=immune ;;
esac
tap_check "header: guard is $guard on $(kver)" grep -qx "guard: $guard" /tmp/proc1
tap_check "header: poisoning $verdict" grep -q "^poisoning: $verdict" /tmp/proc1
for sym in __inet_stream_connect tcp_retransmit_skb tcp_send_loss_probe \
	sk_stream_wait_connect inet_shutdown sk_stream_wait_memory sk_wait_data \
	tcp_v4_err tcp_v6_err; do
	tap_check "probe line for $sym" \
		grep -qE "^probe: $sym hits=[0-9]+ nmissed=0 maxactive=[0-9]+$" /tmp/proc1
done
for tp in tcp_destroy_sock inet_sock_set_state; do
	tap_check "probe line for the $tp tracepoint" \
		grep -qE "^probe: $tp hits=[0-9]+ nmissed=0 maxactive=0 kind=tracepoint$" /tmp/proc1
done
tap_check "maxactive of __inet_stream_connect is the parameter (1024)" \
	grep -q "^probe: __inet_stream_connect .* maxactive=1024$" /tmp/proc1
for c in connect-failed socket-poisoned connect-on-poisoned shutdown-ebusy sender-epipe \
	eaddrnotavail-ephemeral-exhausted eaddrnotavail-bound-port-in-use saddr-lost stall-ended \
	cause-no-listener cause-peer-reset cause-listener-backlog-full cause-no-synack \
	cause-icmp-unreachable cause-no-route cause-saddr-lost cause-route-lost cause-denied \
	cause-other cause-eaddrnotavail cause-wedged failed-printed failed-suppressed; do
	tap_check "counter line $c" grep -qE "^counter: $c [0-9]+$" /tmp/proc1
done
tap_check "table line" grep -qE '^table: used=0 capacity=1024 evictions=0 stale=0$' /tmp/proc1
tap_check "sockets section last" sh -c "tail -n 1 /tmp/proc1 | grep -qx 'sockets:'"
# Every line is one of the known kinds.
bad=$(grep -vE '^(version|kernel|guard|poisoning|params|memory|netns|probe|counter|eaddrnotavail-dest|failed-dest|table|sockets|sock):' /tmp/proc1)
if [ -z "$bad" ]; then tap_ok "no unknown lines"; else tap_fail "no unknown lines" "$bad"; fi

# Hits move with real connects; successes create no rows.
h0=$(probe_hits __inet_stream_connect)
k0=$(probe_hits inet_sock_set_state)
tcd-conn ok 20 >/tmp/ok.out
nok=$(grep -c 'err=0 ' /tmp/ok.out)
h1=$(probe_hits __inet_stream_connect)
k1=$(probe_hits inet_sock_set_state)
# Each connect changes state at least twice (SYN_SENT, ESTABLISHED).
if [ "$nok" -eq 20 ] && [ $((h1 - h0)) -ge 20 ] && [ $((k1 - k0)) -ge 40 ]; then
	tap_ok "20 connects counted (connect hits +$((h1 - h0)), inet_sock_set_state +$((k1 - k0)))"
else
	tap_fail "20 connects counted" "ok=$nok connect hits $h0->$h1 inet_sock_set_state $k0->$k1"
fi
tcd-conn ok 5 -6 >/tmp/ok6.out
tap_check "IPv6 connects succeed" test "$(grep -c 'err=0 ' /tmp/ok6.out)" -eq 5
tap_check "successful connects leave no rows" grep -qE '^table: used=0 ' $P

# EISCONN answers "is my non-blocking connect done?": not a failure.
f0=$(counter connect-failed)
tcd-conn isconn 4 >/tmp/isconn.out
is "connect() on a connected socket returned EISCONN" \
	"$(grep -c '^again .* err=EISCONN$' /tmp/isconn.out)" 4
is "EISCONN is not counted as a failed connect" "$(($(counter connect-failed) - f0))" 0

# Refused connects: the counter matches what the program saw, no alert.
r0=$(counter connect-econnrefused)
dmesg_mark refused
tcd-conn refused 7 >/tmp/ref.out
nref=$(grep -c 'err=ECONNREFUSED' /tmp/ref.out)
r1=$(counter connect-econnrefused)
if [ "$nref" -eq 7 ] && [ $((r1 - r0)) -eq "$nref" ]; then
	tap_ok "connect-econnrefused counted $nref refusals"
else
	tap_fail "connect-econnrefused counts refusals" "program saw $nref, counter $r0->$r1"
fi
no_alert_since refused "refused connects raise no diagnosis alert"
# ... but one connect-failed line (same destination: the rest suppressed).
is "refused: one connect-failed line, cause=no-listener" \
	"$(dmesg_since_mark refused | grep -c 'tcpconndiag: connect-failed .* cause=no-listener ')" 1

# A plain timeout: counted, no alert.
t0=$(counter connect-etimedout)
dmesg_mark timeout
tcd-conn timeout 1 >/tmp/to.out
t1=$(counter connect-etimedout)
if grep -q 'err=ETIMEDOUT' /tmp/to.out && [ $((t1 - t0)) -eq 1 ]; then
	tap_ok "timed-out connect counted"
else
	tap_fail "timed-out connect counted" "$(cat /tmp/to.out) counter $t0->$t1"
fi
no_alert_since timeout "plain timeout raises no diagnosis alert"
is "timeout: its connect-failed line says the listener's queue is full" \
	"$(dmesg_since_mark timeout | grep -c 'tcpconndiag: connect-failed .* cause=listener-backlog-full accept_queue=1/0 ')" 1

# Writes: clear works for root; garbage is refused and changes nothing.
tap_check "echo clear resets counters" sh -c "echo clear > $P && grep -qx 'counter: connect-failed 0' $P"

tap_check "unload after traffic" unload_module
tap_check "/proc file gone after unload" sh -c "! test -e $P"
tap_check "reload with capacity=16 maxactive=64" load_module capacity=16 maxactive=64
tap_check "params shown" grep -qx 'params: capacity=16 maxactive=64 maxactive_short=256' $P
tcd-conn ok 3 >/dev/null
tap_check "second unload" unload_module
