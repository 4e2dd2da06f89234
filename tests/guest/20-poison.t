# SPDX-License-Identifier: GPL-2.0
# Poisoned socket (issue 5): the connect/send and connect/recv thread races
# and shutdown() during a blocking connect, on real sockets. Each reproducer round prints
# what the kernel really returned; the module's alerts, /proc rows and
# counters are compared with that, round by round.
#   5.10 (sk_wait_pending): socket-poisoned + connect-on-poisoned exactly for
#   the rounds whose re-connect got EINVAL; shutdown-ebusy exactly for the
#   rounds whose shutdown() got EBUSY.
#   6.1/6.12 (sk_disconnects): immune, never EINVAL, never those alerts;
#   sender-epipe exactly for the rounds whose sender (receiver), blocked in
#   send() (recv()) while the connect was pending, got EPIPE when the connect
#   failed.
# tcd-timeout: 720

P=/proc/tcpconndiag
S=/tmp/poison
SHUT_ROUNDS=5
rm -rf $S
mkdir -p $S


# A module alert line: "tcpconndiag: EVENT pid=N tgid=N comm=...". Lines are
# matched with the prefix optional so that a missing prefix shows up as its own
# failure ("alert lines carry the prefix") instead of hiding every alert.
AL='(^|\] )(tcpconndiag: )?'
ALERT_RE="${AL}[a-z-]+ pid=[0-9]+ tgid=[0-9]+ comm="

# module_alerts FILE: every module alert line in a kernel log excerpt.
module_alerts() {
	grep -E "$ALERT_RE" "$1" | diag_alerts
}

# alerts FILE EVENT PID: the EVENT alerts of thread PID (pid= comes first).
alerts() {
	grep -E "${AL}$2 pid=$3 " "$1"
}

# nalerts FILE EVENT: how many EVENT alerts FILE holds.
nalerts() {
	grep -c -E "${AL}$2 pid=[0-9]+ " "$1"
}

# naming FILE TID...: the module alerts in FILE that name any of the threads.
naming() {
	_f=$1
	shift
	module_alerts "$_f" | grep -E "[ _]pid=($(echo "$*" | tr ' ' '|')) "
}

# ep FAM PORT: an endpoint as the module prints it.
ep() {
	if [ "$1" = 6 ]; then echo "[::1]:$2"; else echo "127.0.0.1:$2"; fi
}

# The per-round checks below record each mismatch in $why; verdict reports
# the round as $desc, quoting the reproducer's $line.

# want MSG: record a mismatch.
want() {
	why="$why
$1"
}

# expect KEY VALUE LINE WHAT: record a mismatch unless LINE has KEY=VALUE.
expect() {
	_got=$(alert_kv "$3" "$1")
	[ "$_got" = "$2" ] || want "$4: $1=$_got, expected $2"
}

# expect_pending LINE WHAT: record a mismatch unless wait_pending >= 1.
expect_pending() {
	_wp=$(alert_kv "$1" wait_pending)
	[ "${_wp:-0}" -ge 1 ] 2>/dev/null || want "$2: wait_pending=$_wp, expected >= 1"
}

# one_alert FILE EVENT PID: $a = the EVENT alerts of thread PID; true when
# there is exactly one, else records a mismatch.
one_alert() {
	a=$(alerts "$1" "$2" "$3")
	[ "$(printf '%s\n' "$a" | grep -c .)" -eq 1 ] && return 0
	want "want exactly one $2 alert with pid=$3, got: ${a:-none}"
	return 1
}

# only_alerts EVENTS: record a mismatch for any alert in $mine (the round's
# alerts) that is not one of EVENTS (an ERE alternation).
only_alerts() {
	_other=$(printf '%s\n' "$mine" | grep -v -E "${AL}($1) ")
	[ -z "$_other" ] || want "unexpected alerts: $_other"
}

# one_row PATTERN WHAT: $row = the sock: lines of $snap matching PATTERN;
# true when there is exactly one, else records a mismatch.
one_row() {
	row=$(grep "^sock: $1" "$snap")
	[ "$(printf '%s\n' "$row" | grep -c .)" -eq 1 ] && return 0
	want "want one $2 in $snap, got: ${row:-none}
$(sed -n '/^sockets:/,$p' "$snap")"
	return 1
}

# round_fields: r, fam, ct, snap, src and dst from a reproducer's $line.
round_fields() {
	r=$(alert_kv "$line" round)
	fam=$(alert_kv "$line" fam)
	ct=$(alert_kv "$line" connect_tid)
	snap=$(alert_kv "$line" snap)
	src=$(ep "$fam" "$(alert_kv "$line" sport)")
	dst=$(ep "$fam" "$(alert_kv "$line" dport)")
}

verdict() {
	if [ -z "$why" ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$line" "$why"
	fi
}

# reproduce MODE ROUNDS: tcd-poison MODE, ROUNDS IPv4 then ROUNDS IPv6
# rounds, into $S/MODE.out (and .err); checks that every round ran.
reproduce() {
	tcd-poison "$1" -s $S "$2" >$S/$1.out 2>$S/$1.err
	_rc4=$?
	tcd-poison "$1" -6 -s $S "$2" >>$S/$1.out 2>>$S/$1.err
	_rc6=$?
	diag "$(cat $S/$1.out)"
	_n=$(grep -c "^$1 " $S/$1.out)
	if [ "$_rc4" -eq 0 ] && [ "$_rc6" -eq 0 ] && [ "$_n" -eq $((2 * $2)) ]; then
		tap_ok "$1 reproducer ran $2 IPv4 + $2 IPv6 rounds"
	else
		tap_fail "$1 reproducer ran $2 IPv4 + $2 IPv6 rounds" \
			"exit $_rc4/$_rc6, $_n rounds" "$(cat $S/$1.err)"
	fi
}

tap_check "module loads" load_module || exit 0

case $(kver) in
5.10) guard=sk_wait_pending; verdict=possible; poison=1 ;;
*) guard=sk_disconnects; verdict=immune; poison= ;;
esac
tap_check "header: guard $guard" grep -qx "guard: $guard" $P
tap_check "header: poisoning $verdict" grep -q "^poisoning: $verdict " $P

# ---- no false positives ------------------------------------------------------
dmesg_mark fp
fp0="$(counter socket-poisoned) $(counter connect-on-poisoned) $(counter shutdown-ebusy) $(counter sender-epipe)"
{
	tcd-conn ok 5
	tcd-conn ok -6 3
	tcd-conn refused 3
	tcd-conn refused -6 2
	tcd-conn timeout 1
	tcd-conn timeout -6 1
} >$S/fp.out 2>&1
fp1="$(counter socket-poisoned) $(counter connect-on-poisoned) $(counter shutdown-ebusy) $(counter sender-epipe)"
nok=$(grep -c 'err=0 ' $S/fp.out)
nref=$(grep -c 'err=ECONNREFUSED ' $S/fp.out)
nto=$(grep -c 'err=ETIMEDOUT ' $S/fp.out)
if [ "$nok" -eq 8 ] && [ "$nref" -eq 5 ] && [ "$nto" -eq 2 ]; then
	tap_ok "baseline connects: 8 ok, 5 refused, 2 timed out"
else
	tap_fail "baseline connects: 8 ok, 5 refused, 2 timed out" "$(cat $S/fp.out)"
fi
dmesg_since_mark fp >$S/fp.log
a=$(module_alerts $S/fp.log)
if [ -z "$a" ] && [ "$fp0" = "$fp1" ]; then
	tap_ok "ok/refused/timeout connects raise no alert"
else
	tap_fail "ok/refused/timeout connects raise no alert" "$a" \
		"poison/cop/ebusy/epipe counters: $fp0 -> $fp1"
fi

# ---- the connect/send and connect/recv races -----------------------------------
# race_checks MODE COMM KIND: MODE race (the other thread in send()) or
# recvrace (in recv()); its thread is COMM, waiting as KIND. Any
# sk_wait_event() sleeper poisons on sk_wait_pending kernels, and gets EPIPE
# on sk_disconnects kernels.
race_checks() {
rm_=$1 rcomm=$2 rkind=$3 RACE_ROUNDS=$4
dmesg_mark race
sp0=$(counter socket-poisoned)
cop0=$(counter connect-on-poisoned)
ep0=$(counter sender-epipe)
reproduce $rm_ $RACE_ROUNDS
dmesg_since_mark race >$S/$rm_.log
sp1=$(counter socket-poisoned)
cop1=$(counter connect-on-poisoned)
ep1=$(counter sender-epipe)
n=$(grep -c "^$rm_ " $S/$rm_.out)

npois=0
neinval=0
nepipe=0
while read -r line; do
	[ -n "$line" ] || continue
	round_fields
	st=$(alert_kv "$line" sender_tid)
	c1=$(alert_kv "$line" connect1)
	snd=$(alert_kv "$line" send)
	c2=$(alert_kv "$line" connect2)
	c3=$(alert_kv "$line" connect3)
	ein=$(alert_kv "$line" einval)
	neinval=$((neinval + ein))
	desc="$rm_ IPv$fam round $r (connect $c1/$c2/$c3, $rkind $snd)"
	why=
	# Every alert that names one of this round's threads.
	mine=$(naming $S/$rm_.log "$ct" "$st")
	if [ -n "$poison" ] && [ "$c2" = EINVAL ]; then
		npois=$((npois + 1))
		desc="$desc: poisoned, socket-poisoned + connect-on-poisoned + row"
		if one_alert $S/$rm_.log socket-poisoned "$ct"; then
			expect comm tcdp-conn "$a" socket-poisoned
			expect src "$src" "$a" socket-poisoned
			expect dst "$dst" "$a" socket-poisoned
			expect err "$c1" "$a" socket-poisoned
			expect waiter_pid "$st" "$a" socket-poisoned
			expect waiter_comm $rcomm "$a" socket-poisoned
			expect waiter_kind $rkind "$a" socket-poisoned
			expect_pending "$a" socket-poisoned
			printf '%s\n' "$a" | grep -q " hint=\"[^\"]*do not $rkind()" ||
				want "socket-poisoned: the hint does not name $rkind()"
		fi
		if one_alert $S/$rm_.log connect-on-poisoned "$ct"; then
			expect err EINVAL "$a" connect-on-poisoned
			expect src "$src" "$a" connect-on-poisoned
			expect cause socket-poisoned "$a" connect-on-poisoned
			expect poisoned_by_pid "$ct" "$a" connect-on-poisoned
		fi
		only_alerts 'socket-poisoned|connect-on-poisoned'
		if one_row ".*events=[a-z,-]*socket-poisoned.* pid=$ct " \
			"socket-poisoned row with pid=$ct"; then
			printf '%s\n' "$row" | grep -q 'events=[a-z,-]*connect-on-poisoned' ||
				want "row lacks connect-on-poisoned: $row"
			expect src "$src" "$row" row
			expect comm tcdp-conn "$row" row
			expect err "$c1" "$row" row
			expect waiter_pid "$st" "$row" row
			expect waiter_comm $rcomm "$row" row
			expect waiter_kind $rkind "$row" row
			expect einval "$ein" "$row" row
		fi
	elif [ -n "$poison" ]; then
		desc="$desc: not poisoned, no alert"
		[ -z "$mine" ] || want "alerts for a round the kernel did not poison: $mine"
		row=$(grep "^sock: .*socket-poisoned.* pid=$ct " "$snap")
		[ -z "$row" ] || want "poisoned row for a round the kernel did not poison: $row"
		[ "$ein" -eq 0 ] || want "EINVAL although the re-connect was not EINVAL"
	else
		# Immune kernel: never EINVAL; the sender's EPIPE is informational.
		[ "$ein" -eq 0 ] || want "EINVAL on an immune kernel"
		# Raced: the send() began while the first connect was pending.
		raced=$(awk -v s="$(alert_kv "$line" send_start_s)" -v c="$(alert_kv "$line" connect1_s)" \
			'BEGIN { print (s + 0 < c + 0) ? 1 : 0 }')
		if [ "$snd" = EPIPE ] && [ "$c1" != 0 ] && [ "$raced" = 1 ]; then
			nepipe=$((nepipe + 1))
			desc="$desc: sender-epipe naming both threads"
			if one_alert $S/$rm_.log sender-epipe "$st"; then
				expect comm $rcomm "$a" sender-epipe
				expect waiter_kind $rkind "$a" sender-epipe
				expect src "$src" "$a" sender-epipe
				expect dst "$dst" "$a" sender-epipe
				expect err EPIPE "$a" sender-epipe
				expect connect_pid "$ct" "$a" sender-epipe
				expect connect_comm tcdp-conn "$a" sender-epipe
				expect severity info "$a" sender-epipe
			fi
			only_alerts sender-epipe
			one_row ".*events=[a-z,-]*sender-epipe.* connect_pid=$ct " \
				"sender-epipe row with connect_pid=$ct"
		else
			desc="$desc: no alert"
			[ -z "$mine" ] || want "unexpected alerts: $mine"
		fi
	fi
	verdict
done <<EOF
$(grep "^$rm_ " $S/$rm_.out)
EOF

if [ -n "$poison" ]; then
	diag "$rm_: poisoned: IPv4 $(grep -c "^$rm_ .* fam=4 .* connect2=EINVAL " $S/$rm_.out) of $RACE_ROUNDS, IPv6 $(grep -c "^$rm_ .* fam=6 .* connect2=EINVAL " $S/$rm_.out) of $RACE_ROUNDS"
	if [ "$npois" -ge 1 ]; then
		tap_ok "$rm_: the race poisoned $npois of $n sockets on $(kver)"
	else
		tap_fail "$rm_: the race poisoned at least one socket on $(kver)" \
			"no round's re-connect returned EINVAL: the reproducer did not reproduce"
	fi
fi
na=$(nalerts $S/$rm_.log socket-poisoned)
nb=$(nalerts $S/$rm_.log connect-on-poisoned)
nc=$(nalerts $S/$rm_.log sender-epipe)
if [ "$na" -eq "$npois" ] && [ "$nb" -eq "$npois" ] && [ "$nc" -eq "$nepipe" ]; then
	tap_ok "$rm_ alerts: socket-poisoned $na, connect-on-poisoned $nb, sender-epipe $nc (as the kernel did)"
else
	tap_fail "$rm_ alerts match the kernel" \
		"socket-poisoned $na connect-on-poisoned $nb sender-epipe $nc; expected $npois $npois $nepipe"
fi
if [ $((sp1 - sp0)) -eq "$npois" ] && [ $((cop1 - cop0)) -eq "$neinval" ] &&
	[ $((ep1 - ep0)) -eq "$nepipe" ]; then
	tap_ok "$rm_ counters: socket-poisoned +$npois, connect-on-poisoned +$neinval, sender-epipe +$nepipe"
else
	tap_fail "$rm_ counters match the kernel" \
		"socket-poisoned +$((sp1 - sp0)) (want $npois), connect-on-poisoned +$((cop1 - cop0)) (want $neinval EINVAL connects), sender-epipe +$((ep1 - ep0)) (want $nepipe)"
fi
[ -z "$poison" ] && diag "$rm_: the $rkind() got EPIPE from the failing connect in $nepipe of $n rounds"
return 0
}
race_checks race tcdp-send send 10
race_checks recvrace tcdp-recv recv 6


# ---- shutdown() during a blocking connect --------------------------------------
dmesg_mark shutdown
se0=$(counter shutdown-ebusy)
sp0=$(counter socket-poisoned)
reproduce shutdown $SHUT_ROUNDS
dmesg_since_mark shutdown >$S/shut.log
se1=$(counter shutdown-ebusy)
sp1=$(counter socket-poisoned)
n=$(grep -c '^shutdown ' $S/shutdown.out)

nebusy=0
while read -r line; do
	[ -n "$line" ] || continue
	round_fields
	bt=$(alert_kv "$line" shutdown_tid)
	sh=$(alert_kv "$line" shutdown)
	c=$(alert_kv "$line" connect)
	desc="shutdown IPv$fam round $r (shutdown $sh, connect $c after $(alert_kv "$line" connect_s) s)"
	why=
	mine=$(naming $S/shut.log "$ct" "$bt")
	if [ "$sh" = EBUSY ]; then
		nebusy=$((nebusy + 1))
		desc="$desc: shutdown-ebusy naming both threads"
		[ -n "$poison" ] || want "shutdown() returned EBUSY on a kernel the module calls immune"
		if one_alert $S/shut.log shutdown-ebusy "$bt"; then
			expect comm tcdp-shut "$a" shutdown-ebusy
			expect src "$src" "$a" shutdown-ebusy
			expect dst "$dst" "$a" shutdown-ebusy
			expect err EBUSY "$a" shutdown-ebusy
			expect connect_pid "$ct" "$a" shutdown-ebusy
			expect connect_comm tcdp-conn "$a" shutdown-ebusy
			expect_pending "$a" shutdown-ebusy
		fi
		only_alerts shutdown-ebusy
		if one_row ".*events=[a-z,-]*shutdown-ebusy.* pid=$ct " \
			"shutdown-ebusy row with pid=$ct"; then
			expect ebusy_pid "$bt" "$row" row
			expect ebusy_comm tcdp-shut "$row" row
			expect err "$c" "$row" row
		fi
	else
		desc="$desc: no alert"
		[ -z "$mine" ] || want "unexpected alerts: $mine"
	fi
	verdict
done <<EOF
$(grep '^shutdown ' $S/shutdown.out)
EOF

if [ -n "$poison" ]; then
	if [ "$nebusy" -ge 1 ]; then
		tap_ok "shutdown() got EBUSY in $nebusy of $n rounds on $(kver)"
	else
		tap_fail "shutdown() got EBUSY at least once on $(kver)" \
			"no round reproduced the EBUSY shutdown"
	fi
fi
na=$(nalerts $S/shut.log shutdown-ebusy)
nb=$(grep -c -E "${AL}(socket-poisoned|connect-on-poisoned) " $S/shut.log)
if [ "$na" -eq "$nebusy" ] && [ $((se1 - se0)) -eq "$nebusy" ] && [ "$nb" -eq 0 ] &&
	[ "$sp1" -eq "$sp0" ]; then
	tap_ok "shutdown alerts and counter: shutdown-ebusy $na (as the kernel did), nothing poisoned"
else
	tap_fail "shutdown alerts and counter match the kernel" \
		"shutdown-ebusy alerts $na counter +$((se1 - se0)), want $nebusy; poisoned alerts $nb counter +$((sp1 - sp0)), want 0"
fi

# ---- the application's own shutdown() on a connecting socket -------------------
# A non-blocking connect to a closed port is refused; shutdown() while the
# socket is still SS_CONNECTING leaves SS_DISCONNECTING on every kernel, and
# every later connect() gets EINVAL. The module must name that shutdown(),
# not an EBUSY poisoning (which only sk_wait_pending kernels have).
dmesg_mark wedge
cw0=$(counter connect-on-poisoned)
{ tcd-conn shutwedge 3; tcd-conn shutwedge -6 2; } >$S/wedge.out 2>&1
dmesg_since_mark wedge >$S/wedge.log
diag "$(cat $S/wedge.out)"
nw=$(grep -c '^wedge .* connect2=EINVAL ' $S/wedge.out)
nein=$(($(grep -o 'connect[23]=EINVAL' $S/wedge.out | grep -c .)))
wts=$(sed -n 's/^wedge .* tid=\([0-9]*\) .*/\1/p' $S/wedge.out | sort -u)
# What the kernel did decides what the module must say: a refusal seen
# before connect() returned leaves nothing to wedge.
if [ "$nw" -ge 1 ]; then
	tap_ok "shutdown() on a refused, still-connecting socket wedged $nw of 5 (connect() EINVAL after)"
else
	tap_fail "shutdown() on a refused, still-connecting socket wedged it" \
		"no round's connect() after shutdown() got EINVAL: the reproducer did not reproduce"
fi
a=$(for t in $wts; do alerts $S/wedge.log connect-on-poisoned "$t"; done)
is "one connect-on-poisoned per wedged socket" "$(printf '%s\n' "$a" | grep -c .)" "$nw"
is "each with cause=shutdown" "$(printf '%s\n' "$a" | grep -c ' cause=shutdown ')" "$nw"
is "each naming the thread that called shutdown() (here the connecting one)" \
	"$(printf '%s\n' "$a" | awk '{ p = s = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^pid=/) p = substr($i, 5)
			if ($i ~ /^shutdown_pid=/) s = substr($i, 14)
		}
		if (p != "" && p == s) n++ } END { print n + 0 }')" "$nw"
is "each with the shutdown() hint" \
	"$(printf '%s\n' "$a" | grep -c 'hint="shutdown() on a connecting socket')" "$nw"
is "no poisoning wording" "$(printf '%s\n' "$a" | grep -c -e poisoned_by -e 'cause=socket-poisoned' -e 'cause=unknown')" 0
is "counter connect-on-poisoned +$nein (every EINVAL connect)" \
	"$(($(counter connect-on-poisoned) - cw0))" "$nein"

# The output contract: every alert line starts with "tcpconndiag: ".
cat $S/race.log $S/recvrace.log $S/shut.log | grep -E "$ALERT_RE" | diag_alerts >$S/alerts.log
nall=$(grep -c . $S/alerts.log)
bare=$(grep -v -E '(^|\] )tcpconndiag: ' $S/alerts.log)
if [ "$nall" -eq 0 ]; then
	tap_skip "alert lines carry the 'tcpconndiag: ' prefix" "no alert on this kernel"
elif [ -z "$bare" ]; then
	tap_ok "alert lines carry the 'tcpconndiag: ' prefix ($nall lines)"
else
	tap_fail "alert lines carry the 'tcpconndiag: ' prefix" \
		"$(printf '%s\n' "$bare" | grep -c .) of $nall lack it, e.g.:" \
		"$(printf '%s\n' "$bare" | head -n 3)"
fi

# A missed kretprobe return would make any of the above meaningless.
missed=$(missed_task_probes)
if [ -z "$missed" ]; then
	tap_ok "no connect-path probe missed a call"
else
	tap_fail "no connect-path probe missed a call" "$missed"
fi
# A dropped destruct hit (softirq recursion) leaves a row behind; the
# per-round checks above hold because the next socket does not inherit it.
diag "destruct: $(grep '^probe: tcp_destroy_sock ' $P), $(grep '^table: ' $P)"
rows_outlived_ok "all sockets closed"

tap_check "module unloads" unload_module
