# SPDX-License-Identifier: GPL-2.0
# EADDRNOTAVAIL diagnosis (issue 6): real port exhaustion (narrow
# ip_local_port_range, per-socket IP_LOCAL_PORT_RANGE, ports held in TIME_WAIT)
# and real bound-port conflicts (SO_REUSEADDR, holder ESTABLISHED, FIN_WAIT2 or
# TIME_WAIT), IPv4 and IPv6. Every alert field and counter is compared with
# what connect() really returned and what /proc/net/tcp{,6} showed.
# tcd-timeout: 400

P=/proc/tcpconndiag
SYS=/proc/sys/net/ipv4
O=/tmp/eaddr
mkdir -p $O

orig_range=$(cat $SYS/ip_local_port_range)
orig_ts=$(cat $SYS/tcp_timestamps)
diag "ip_local_port_range=$orig_range tcp_timestamps=$orig_ts tcp_tw_reuse=$(cat $SYS/tcp_tw_reuse)"

restore() {
	echo "$orig_range" >$SYS/ip_local_port_range
	echo >$SYS/ip_local_reserved_ports
	echo "$orig_ts" >$SYS/tcp_timestamps
}
trap 'restore; unload_module >/dev/null 2>&1' EXIT
trap 'exit 1' TERM INT


# "ephemeral bound connect" eaddrnotavail counters.
eaddr_counters() {
	echo "$(counter eaddrnotavail-ephemeral-exhausted)" \
		"$(counter eaddrnotavail-bound-port-in-use)" "$(counter connect-eaddrnotavail)"
}

# cnt_add "E B C" dE dB dC
cnt_add() {
	echo "$1" | { read -r e b c; echo "$((e + $2)) $((b + $3)) $((c + $4))"; }
}

# counters_ok DESC BEFORE AFTER DELTA_E DELTA_B DELTA_C: the eaddr_counters
# triple moved from BEFORE to AFTER by exactly these deltas.
counters_ok() {
	_want=$(cnt_add "$2" "$4" "$5" "$6")
	if [ "$3" = "$_want" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "ephemeral/bound/connect-eaddrnotavail: $2 -> $3, want $_want"
	fi
}

# eaddr_alerts MARK: eaddrnotavail alerts since MARK, hint removed.
eaddr_alerts() {
	dmesg_since_mark "$1" | grep 'tcpconndiag: eaddrnotavail ' |
		sed 's/^.*tcpconndiag: /tcpconndiag: /; s/ hint="[^"]*"//'
}

# all_alerts MARK: alerts of any kind since MARK.
all_alerts() {
	dmesg_since_mark "$1" | grep 'tcpconndiag: [a-z-]* .*pid=' | diag_alerts
}

nlines() {
	[ -z "$1" ] && echo 0 && return
	printf '%s\n' "$1" | wc -l
}

# no_alert MARK DESC
no_alert() {
	na_a=$(all_alerts "$1")
	if [ -z "$na_a" ]; then tap_ok "$2"; else tap_fail "$2" "$na_a"; fi
}

# TIME_WAIT sockets of this netns: /proc/net/tcp{,6} rows of timewait sockets
# (timer field 03, their substate may be TIME_WAIT or FIN_WAIT2).
tw_count() {
	cat /proc/net/tcp /proc/net/tcp6 | awk '$6 ~ /^03:/ { n++ } END { print n + 0 }'
}

# ports_held LO HI: the sockets (/proc/net/tcp{,6}: local remote state)
# whose local port is in LO..HI, e.g. a bound holder that takes a port of
# the range away from an exhaustion run.
ports_held() {
	cat /proc/net/tcp /proc/net/tcp6 | awk -v lo="$1" -v hi="$2" '
		NR > 1 && $2 ~ /:/ { split($2, a, ":"); p = 0
			for (i = 1; i <= 4; i++) p = p * 16 + index("0123456789ABCDEF", substr(a[2], i, 1)) - 1
			if (p >= lo && p <= hi) print "port " p ": " $2 " " $3 " st=" $4 }'
}

# dest_count DST: count of DST in the eaddrnotavail-dest list ("" if absent).
dest_line() {
	awk -v d="dst=$1" '$1 == "eaddrnotavail-dest:" && $2 == d' $P
}

# uptime in centiseconds
now_centis() {
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

# The global alert budget (alert_burst per alert_interval) gets its own test
# at the end; until then it must not drop the alerts checked here.
PB=/sys/module/tcpconndiag/parameters
tap_check "module loads (alert_burst=1000)" load_module alert_burst=1000 || exit 0
echo clear >$P

# ---- no alert for successes and for other errors ----------------------------
c0=$(eaddr_counters)
dmesg_mark ok
tcd-conn ok 5 >$O/ok4.out
tcd-conn ok 5 -6 >$O/ok6.out
n=$(cat $O/ok4.out $O/ok6.out | grep -c 'err=0 ')
tap_check "10 successful connects (IPv4, IPv6)" test "$n" -eq 10
no_alert ok "successful connects raise no alert"

dmesg_mark refused
tcd-conn refused 3 >$O/ref4.out
tcd-conn refused 3 -6 >$O/ref6.out
n=$(cat $O/ref4.out $O/ref6.out | grep -c 'err=ECONNREFUSED')
tap_check "6 refused connects (IPv4, IPv6)" test "$n" -eq 6
no_alert refused "ECONNREFUSED raises no alert"

# A fresh netns has no route at all; with its lo up IPv6 has a source (::1).
u0=$(counter connect-enetunreach)
dmesg_mark unreach
unshare -n tcd-eaddr connect 192.0.2.1 80 >$O/unr4.out 2>&1
unshare -n sh -c 'ip link set lo up && tcd-eaddr connect -6 2001:db8::1 80' >$O/unr6.out 2>&1
n=$(cat $O/unr4.out $O/unr6.out | grep -c 'err=ENETUNREACH')
u1=$(counter connect-enetunreach)
if [ "$n" -eq 2 ] && [ $((u1 - u0)) -eq 2 ]; then
	tap_ok "2 ENETUNREACH connects (no route; IPv4, IPv6) counted"
else
	tap_fail "2 ENETUNREACH connects (no route; IPv4, IPv6) counted" \
		"$(cat $O/unr4.out $O/unr6.out)" "connect-enetunreach $u0 -> $u1"
fi
no_alert unreach "ENETUNREACH raises no alert"
tap_check "no eaddrnotavail counted for any of these" test "$(eaddr_counters)" = "$c0"

# IPv6 with no usable source address (fresh netns, lo down): routing, not
# port selection, returns EADDRNOTAVAIL. Counted as a connect error, but it
# is neither cause, so no eaddrnotavail diagnosis.
dmesg_mark nosrc
unshare -n tcd-eaddr connect -6 2001:db8::1 80 >$O/nosrc.out 2>&1
c1=$(eaddr_counters)
if grep -q 'err=EADDRNOTAVAIL' $O/nosrc.out && [ "$c1" = "$(cnt_add "$c0" 0 0 1)" ]; then
	tap_ok "IPv6 without a source address: EADDRNOTAVAIL, connect-eaddrnotavail +1, no cause"
else
	tap_fail "IPv6 without a source address: EADDRNOTAVAIL counted, no cause" \
		"$(cat $O/nosrc.out)" "ephemeral/bound/connect-eaddrnotavail: $c0 -> $c1"
fi
no_alert nosrc "EADDRNOTAVAIL from routing raises no alert"

# ---- port exhaustion -----------------------------------------------------------
# exhaust_case TAG LO HI FROM SRC DST NOK -- COMMAND...
# Runs one exhaustion program; the alert of the first failing connect must
# carry the effective range LO-HI (from FROM: sysctl|socket), src SRC, dst
# DST; NOK connects must succeed first (the port count; "A B": either). Globals:
# X_PRIOR failures already counted for DST (updated here), X_SUPP the
# suppressed= the first alert must carry ("" none), X_TWNEW TIME_WAITs the
# program creates, X_AGAIN a second command run at once against the same
# destination (its failures fall in the same 5 s and must not alert),
# X_ALERTS=1 to require exactly one alert even if the run was slow,
# X_RESERVED ports of the range in ip_local_reserved_ports (never tried),
# X_PORTS the ports the kernel scans when not the whole range less those.
# Sets x_fail (EADDRNOTAVAIL the programs saw) and x_first (first alert).
X_PRIOR=0
X_SUPP=
X_TWNEW=0
X_AGAIN=
X_ALERTS=
X_RESERVED=0
X_PORTS=
exhaust_case() {
	x_tag=$1 x_lo=$2 x_hi=$3 x_from=$4 x_src=$5 x_dst=$6 x_nok=$7
	shift 8
	x_out=$O/$x_tag.out
	x_first=
	x_c0=$(eaddr_counters)
	x_tw0=$(tw_count)
	dmesg_mark "$x_tag"
	x_t0=$(now_centis)
	"$@" >"$x_out" 2>&1
	x_rc=$?
	if [ -n "$X_AGAIN" ]; then
		$X_AGAIN >"$x_out.again" 2>&1
		x_rc2=$?
	fi
	x_t1=$(now_centis)
	x_tw1=$(tw_count)
	x_c1=$(eaddr_counters)
	x_ports=${X_PORTS:-$((x_hi - x_lo + 1 - X_RESERVED))}
	x_fail=0
	for x_f in "$x_out" ${X_AGAIN:+"$x_out.again"}; do
		x_sum=$(grep '^summary ' "$x_f")
		x_n=$(alert_kv "$x_sum" eaddrnotavail)
		x_rcf=$x_rc
		[ "$x_f" = "$x_out" ] || x_rcf=$x_rc2
		if [ "$x_rcf" -eq 0 ] && case " $x_nok " in *" $(alert_kv "$x_sum" ok) "*) ;; *) false ;; esac &&
			[ "${x_n:-0}" -ge 1 ] && [ "$(alert_kv "$x_sum" other)" = 0 ]; then
			tap_ok "$x_tag: $(alert_kv "$x_sum" ok) connects on $x_ports ports, then EADDRNOTAVAIL x$x_n${X_AGAIN:+ ($(basename "$x_f"))}"
		else
			tap_fail "$x_tag: $x_nok connects on $x_ports ports, then EADDRNOTAVAIL" \
				"exit $x_rcf: ${x_sum:-no summary line}" \
				"$(grep -v -E '^(summary |connect [0-9]+ err=0 )' "$x_f" | head -n 5)" \
				"sockets on ports $x_lo-$x_hi now: $(ports_held "$x_lo" "$x_hi" | tr '\n' ';')" \
				"$(tail -n 25 "$x_f")"
		fi
		x_fail=$((x_fail + ${x_n:-0}))
	done
	x_prior=$X_PRIOR
	X_PRIOR=$((X_PRIOR + x_fail))
	[ "$x_fail" -ge 1 ] || return 0
	x_sum=$(grep '^summary ' "$x_out")
	x_out_of=$(cat "$x_out" ${X_AGAIN:+"$x_out.again"} | awk -v lo="$x_lo" -v hi="$x_hi" '
		/^connect .* err=0 / { p = $4; sub("port=", "", p)
			if (p + 0 < lo || p + 0 > hi) print }')
	if [ -z "$x_out_of" ]; then
		tap_ok "$x_tag: every local port in $x_lo-$x_hi"
	else
		tap_fail "$x_tag: every local port in $x_lo-$x_hi" "$x_out_of"
	fi
	counters_ok "$x_tag: counters +$x_fail (ephemeral, connect-eaddrnotavail), bound +0" \
		"$x_c0" "$x_c1" "$x_fail" 0 "$x_fail"

	# One alert per destination per 5 s: exactly one when everything ran
	# within 4 s, else at most one per failure.
	x_al=$(eaddr_alerts "$x_tag")
	x_n=$(nlines "$x_al")
	x_all=$(nlines "$(all_alerts "$x_tag")")
	x_ms=$(((x_t1 - x_t0) * 10))
	x_exp=$X_ALERTS
	[ -z "$x_exp" ] && [ "$x_ms" -lt 4000 ] && x_exp=1
	if [ "$x_n" -ge 1 ] && [ "$x_n" -eq "$x_all" ] &&
		{ [ "$x_exp" != 1 ] && [ "$x_n" -le "$x_fail" ] || [ "$x_n" -eq 1 ]; }; then
		tap_ok "$x_tag: $x_n eaddrnotavail alert(s) for $x_fail failures in ${x_ms} ms"
	else
		tap_fail "$x_tag: one eaddrnotavail alert per destination per 5 s" \
			"$x_n eaddrnotavail alerts, $x_all in all, $x_fail failures in ${x_ms} ms:" \
			"$(all_alerts "$x_tag")" "kernel log lines naming eaddrnotavail:" \
			"$(dmesg_since_mark "$x_tag" | grep eaddrnotavail | head -n 5)"
	fi
	[ "$x_n" -ge 1 ] || return 0
	x_first=$(printf '%s\n' "$x_al" | head -n 1)
	x_pid=$(alert_kv "$x_sum" pid)
	x_tid=$(sed -n 's/^connect [0-9]* err=EADDRNOTAVAIL .*tid=\([0-9]*\).*/\1/p' "$x_out" |
		head -n 1)
	check_fields "$x_tag: alert names the failing thread, endpoints and cause" "$x_first" \
		pid="$x_tid" tgid="$x_pid" comm=tcd-eaddr src="$x_src" dst="$x_dst" \
		err=EADDRNOTAVAIL cause=ephemeral-exhausted
	check_fields "$x_tag: alert range=$x_lo-$x_hi ports=$x_ports reserved=$X_RESERVED range_from=$x_from" \
		"$x_first" range="$x_lo-$x_hi" ports="$x_ports" reserved="$X_RESERVED" range_from="$x_from" \
		tw_reuse="$(cat $SYS/tcp_tw_reuse)" dest_failures=$((x_prior + 1))
	# The count at the failure: what the program left (x_tw1), plus what
	# expired since; at most what was there plus what the program made.
	x_tw=$(alert_kv "$x_first" time_wait)
	if [ -n "$x_tw" ] && [ "$x_tw" -ge "$x_tw1" ] && [ "$x_tw" -le $((x_tw0 + X_TWNEW)) ]; then
		tap_ok "$x_tag: time_wait=$x_tw (/proc/net/tcp{,6}: $x_tw0 before, $x_tw1 after)"
	else
		tap_fail "$x_tag: time_wait matches /proc/net/tcp{,6}" \
			"alert time_wait=$x_tw, /proc: $x_tw0 before, $x_tw1 after, $X_TWNEW made"
	fi
	x_supp=$(alert_kv "$x_first" suppressed)
	if [ "$x_supp" = "$X_SUPP" ]; then
		tap_ok "$x_tag: suppressed=${x_supp:-(none)} (earlier unreported failures)"
	else
		tap_fail "$x_tag: suppressed= counts the unreported failures" \
			"got '$x_supp', want '$X_SUPP'" "$x_first"
	fi
	if dmesg_since_mark "$x_tag" | grep 'tcpconndiag: eaddrnotavail ' | head -n 1 |
		grep -q 'hint=".*ip_local_port_range.*tcp_tw_reuse.*"'; then
		tap_ok "$x_tag: hint names ip_local_port_range and tcp_tw_reuse"
	else
		tap_fail "$x_tag: hint names ip_local_port_range and tcp_tw_reuse" "$x_first"
	fi
	x_check_dest "$x_tag" "$x_dst" $X_PRIOR
}

# x_check_dest TAG DST COUNT: the destination list shows DST with COUNT, and
# last_s_ago fits the time since the failing run (x_t0..x_t1).
x_check_dest() {
	xd_a=$(now_centis)
	xd=$(dest_line "$2")
	xd_b=$(now_centis)
	xd_n=$(alert_kv " $xd" count)
	xd_ago=$(alert_kv " $xd" last_s_ago)
	xd_lo=$(((xd_a - x_t1) / 100 - 1))
	xd_hi=$(((xd_b - x_t0) / 100 + 1))
	if [ "$xd_n" = "$3" ] && [ -n "$xd_ago" ] && [ "$xd_ago" -ge "$xd_lo" ] &&
		[ "$xd_ago" -le "$xd_hi" ]; then
		tap_ok "$1: /proc lists dst=$2 count=$3 last_s_ago=$xd_ago"
	else
		tap_fail "$1: /proc lists dst=$2 count=$3 last_s_ago=$xd_lo..$xd_hi" \
			"got: '$xd'" "$(grep '^eaddrnotavail-dest:' $P)"
	fi
}

echo "40000 40007" >$SYS/ip_local_port_range
tap_check "ip_local_port_range set to 40000-40007" grep -qE '^40000[[:space:]]+40007$' \
	$SYS/ip_local_port_range

# Listeners on fixed ports outside the range, so they take none of it. The
# second run to the same destination right after is counted but, inside the
# destination's 5 s, raises no alert of its own.
X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS= X_AGAIN="tcd-eaddr exhaust -l 39999 11"
exhaust_case exh4 40000 40007 sysctl 127.0.0.1:0 127.0.0.1:39999 8 -- \
	tcd-eaddr exhaust -l 39999 12
X_AGAIN=
sleep 6
# More than 5 s later: one alert again, carrying the suppressed count.
X_SUPP=$((X_PRIOR - 1))
exhaust_case exh4-later 40000 40007 sysctl 127.0.0.1:0 127.0.0.1:39999 8 -- \
	tcd-eaddr exhaust -l 39999 10

# A reserved port in the range is never tried: 7 ports, reserved=1.
echo 40003 >$SYS/ip_local_reserved_ports
X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS= X_RESERVED=1
exhaust_case exh4-res 40000 40007 sysctl 127.0.0.1:0 127.0.0.1:39989 7 -- \
	tcd-eaddr exhaust -l 39989 9
X_RESERVED=0
echo >$SYS/ip_local_reserved_ports

# IPv6, the connects made by a second thread (pid= is the thread, tgid= the process).
X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
exhaust_case exh6 40000 40007 sysctl '[::1]:0' '[::1]:39998' 8 -- \
	tcd-eaddr exhaust -6 -t -l 39998 11

# IPv6 socket, v4-mapped destination (goes through tcp_v4_connect).
X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
exhaust_case exhm 40000 40007 sysctl '[::ffff:127.0.0.1]:0' '[::ffff:127.0.0.1]:39992' 8 -- \
	tcd-eaddr exhaust -m -l 39992 10

# Ports held in TIME_WAIT (timestamps off: no reuse) exhaust the range too.
echo 0 >$SYS/tcp_timestamps
X_PRIOR=0 X_SUPP= X_TWNEW=8 X_ALERTS=
exhaust_case exh4-tw 40000 40007 sysctl 127.0.0.1:0 127.0.0.1:39997 8 -- \
	tcd-eaddr exhaust -c -l 39997 10
x_tw=$(alert_kv "$x_first" time_wait)
if [ -n "$x_tw" ] && [ "$x_tw" -ge 8 ]; then
	tap_ok "exh4-tw: alert counts the 8 TIME_WAIT ports (time_wait=$x_tw)"
else
	tap_fail "exh4-tw: alert counts the 8 TIME_WAIT ports" "alert: $x_first"
fi
echo "$orig_ts" >$SYS/tcp_timestamps

# ---- per-socket IP_LOCAL_PORT_RANGE ----------------------------------------------
echo "40000 40015" >$SYS/ip_local_port_range
tcd-eaddr exhaust-sockrange -l 39996 40004 40007 1 >$O/probe.out 2>&1
probe_rc=$?
case $(kver) in
5.10) want_sockrange=no ;;
*) want_sockrange=yes ;;
esac
if [ "$probe_rc" -eq 3 ] && grep -q '^sockrange unsupported err=ENOPROTOOPT' $O/probe.out; then
	have_sockrange=no
elif [ "$probe_rc" -eq 0 ] && grep -q '^sockrange get=40004-40007$' $O/probe.out; then
	have_sockrange=yes
else
	have_sockrange=broken
fi
if [ "$have_sockrange" = "$want_sockrange" ]; then
	tap_ok "IP_LOCAL_PORT_RANGE on $(kver): $have_sockrange"
else
	tap_fail "IP_LOCAL_PORT_RANGE on $(kver): want $want_sockrange, got $have_sockrange" \
		"$(cat $O/probe.out)"
fi
if [ "$have_sockrange" = yes ]; then
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
	exhaust_case sock4 40004 40007 socket 127.0.0.1:0 127.0.0.1:39995 4 -- \
		tcd-eaddr exhaust-sockrange -l 39995 40004 40007 7
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
	exhaust_case sock6 40008 40011 socket '[::1]:0' '[::1]:39994' 4 -- \
		tcd-eaddr exhaust-sockrange -6 -l 39994 40008 40011 6
	# A socket range outside the sysctl range does not narrow it.
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
	exhaust_case sock4-outside 40000 40015 sysctl 127.0.0.1:0 127.0.0.1:39993 16 -- \
		tcd-eaddr exhaust-sockrange -l 39993 50000 50003 18
	# Only the low bound inside the sysctl range: it alone narrows.
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS=
	exhaust_case sock4-low 40012 40015 socket 127.0.0.1:0 127.0.0.1:39988 4 -- \
		tcd-eaddr exhaust-sockrange -l 39988 40012 50000 6
	# Odd ranges: 6.8+ (207184853dbd) scans every port of a socket with
	# the option set, narrowing or not: every port gets used, and the
	# failing scan tried them all. 6.1's backport scans by parity, an
	# even count: each scan leaves one port out (which one depends on
	# its start, so earlier connects may still have used it all).
	odd_ports=4 odd_nok="4 5" out_ports=14 out_nok="14 15"
	if kver_ge 6.8; then
		odd_ports=5 odd_nok=5 out_ports=15 out_nok=15
	fi
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS= X_PORTS=$odd_ports
	exhaust_case sock4-odd 40004 40008 socket 127.0.0.1:0 127.0.0.1:39987 "$odd_nok" -- \
		tcd-eaddr exhaust-sockrange -l 39987 40004 40008 7
	X_PRIOR=0 X_SUPP= X_TWNEW=0 X_ALERTS= X_PORTS=$out_ports
	echo "40000 40014" >$SYS/ip_local_port_range
	exhaust_case sock4-odd-outside 40000 40014 sysctl 127.0.0.1:0 127.0.0.1:39986 "$out_nok" -- \
		tcd-eaddr exhaust-sockrange -l 39986 50000 50003 17
	X_PORTS=
else
	tap_skip "per-socket range exhaustion" "no IP_LOCAL_PORT_RANGE on $(kver)"
fi

echo "$orig_range" >$SYS/ip_local_port_range
tap_check "ip_local_port_range restored" test "$(cat $SYS/ip_local_port_range)" = "$orig_range"

# ---- bound port in use ---------------------------------------------------------
# bound_case TAG -6|-m|"" MODE WANT_HOLDER WANT_ERR
# WANT_ERR "ts-reuse": timestamps on, so the kernel reuses the 4-tuple of a
# timewait holder (connect succeeds); an orphaned FIN_WAIT2 still a full
# socket (its FIN's ACK came while close() held the lock) is never reused.
# The holder's state is what the program saw in /proc/net/tcp{,6} right
# before and after the second connect; the alert must report that state.
bound_case() {
	b_tag=$1 b_fam=$2 b_mode=$3 b_want=$4 b_werr=$5
	b_out=$O/$b_tag.out
	b_c0=$(eaddr_counters)
	dmesg_mark "$b_tag"
	tcd-eaddr bound $b_fam "$b_mode" >"$b_out" 2>&1
	b_rc=$?
	b_c1=$(eaddr_counters)
	b_line=$(grep '^bound ' "$b_out")
	b_err=$(alert_kv "$b_line" err)
	b_port=$(alert_kv "$b_line" port)
	b_lport=$(alert_kv "$b_line" dst_port)
	b_hold=$(alert_kv "$(grep '^holder state=' "$b_out")" state)
	b_kind=$(alert_kv "$(grep '^holder state=' "$b_out")" kind)
	if [ "$b_werr" = ts-reuse ]; then
		b_werr=0
		[ "$b_kind" = full ] && b_werr=EADDRNOTAVAIL
	fi
	b_after=$(alert_kv "$(grep '^holder_after ' "$b_out")" state)
	if [ "$b_rc" -eq 0 ] && [ "$b_hold" = "$b_want" ] && [ -n "$b_port" ]; then
		tap_ok "$b_tag: holder of port $b_port is $b_hold ($b_kind socket, /proc/net/tcp)"
	else
		tap_fail "$b_tag: holder is $b_want" "exit $b_rc" "$(cat "$b_out")"
		return 0
	fi
	if [ "$b_err" = "$b_werr" ]; then
		tap_ok "$b_tag: second bound connect() returns $b_err${b_kind:+ (holder: $b_kind $b_hold)}"
	else
		tap_fail "$b_tag: second bound connect() returns $b_werr" "$(cat "$b_out")"
	fi
	if [ "$b_err" != EADDRNOTAVAIL ]; then
		tap_check "$b_tag: no eaddrnotavail counted" test "$b_c1" = "$b_c0"
		no_alert "$b_tag" "$b_tag: no alert"
		return 0
	fi
	counters_ok "$b_tag: counters bound +1, connect-eaddrnotavail +1, ephemeral +0" \
		"$b_c0" "$b_c1" 0 1 1
	b_al=$(eaddr_alerts "$b_tag")
	b_n=$(nlines "$b_al")
	b_all=$(nlines "$(all_alerts "$b_tag")")
	if [ "$b_n" -eq 1 ] && [ "$b_all" -eq 1 ]; then
		tap_ok "$b_tag: one eaddrnotavail alert"
	else
		tap_fail "$b_tag: one eaddrnotavail alert" "$(all_alerts "$b_tag")" \
			"kernel log lines naming eaddrnotavail:" \
			"$(dmesg_since_mark "$b_tag" | grep eaddrnotavail | head -n 5)"
		[ "$b_n" -ge 1 ] || return 0
	fi
	case $b_fam in
	-6) b_ip='[::1]' ;;
	-m) b_ip='[::ffff:127.0.0.1]' ;;
	*) b_ip=127.0.0.1 ;;
	esac
	b_src="$b_ip:$b_port" b_dst="$b_ip:$b_lport"
	b_first=$(printf '%s\n' "$b_al" | head -n 1)
	check_fields "$b_tag: alert names the thread, endpoints and cause" "$b_first" \
		pid="$(alert_kv "$b_line" tid)" tgid="$(alert_kv "$b_line" pid)" comm=tcd-eaddr \
		src="$b_src" dst="$b_dst" err=EADDRNOTAVAIL cause=bound-port-in-use
	check_fields "$b_tag: alert port=$b_port reuseaddr=1 holder_state=$b_hold" "$b_first" \
		port="$b_port" reuseaddr=1 holder_state="$b_hold"
	if [ "$b_after" = "$b_hold" ]; then
		tap_ok "$b_tag: holder still $b_after after the failed connect"
	else
		tap_fail "$b_tag: holder unchanged by the failed connect" \
			"before $b_hold, after $b_after"
	fi
	if dmesg_since_mark "$b_tag" | grep 'tcpconndiag: eaddrnotavail ' |
		grep -q 'hint=".*IP_BIND_ADDRESS_NO_PORT.*"'; then
		tap_ok "$b_tag: hint names IP_BIND_ADDRESS_NO_PORT"
	else
		tap_fail "$b_tag: hint names IP_BIND_ADDRESS_NO_PORT" "$b_first"
	fi
	# Not an exhaustion: the destination list stays for ephemeral failures.
	b_d=$(dest_line "$b_dst")
	if [ -z "$b_d" ]; then
		tap_ok "$b_tag: $b_dst not in the exhaustion destination list"
	else
		tap_fail "$b_tag: $b_dst not in the exhaustion destination list" "$b_d"
	fi
}

# Timestamps on (default): an open holder always conflicts.
bound_case bound4-est "" established ESTABLISHED EADDRNOTAVAIL
tap_check "bound4-est: TCP_INFO of the holder says ESTABLISHED" \
	grep -qx 'holder tcp_info=ESTABLISHED' $O/bound4-est.out
bound_case bound6-est -6 established ESTABLISHED EADDRNOTAVAIL
bound_case boundm-est -m established ESTABLISHED EADDRNOTAVAIL

# Timestamps off: TIME_WAIT and FIN_WAIT2 4-tuples cannot be reused either.
echo 0 >$SYS/tcp_timestamps
bound_case bound4-est-nots "" established ESTABLISHED EADDRNOTAVAIL
bound_case bound4-fw2-nots "" closed FIN_WAIT2 EADDRNOTAVAIL
bound_case bound4-tw-nots "" peerclosed TIME_WAIT EADDRNOTAVAIL
bound_case bound6-fw2-nots -6 closed FIN_WAIT2 EADDRNOTAVAIL
bound_case bound6-tw-nots -6 peerclosed TIME_WAIT EADDRNOTAVAIL
bound_case boundm-tw-nots -m peerclosed TIME_WAIT EADDRNOTAVAIL
echo "$orig_ts" >$SYS/tcp_timestamps

# Timestamps on: the kernel reuses a closed holder's 4-tuple, connect succeeds.
if [ "$orig_ts" != 0 ]; then
	bound_case bound4-fw2-ts "" closed FIN_WAIT2 ts-reuse
	bound_case bound4-tw-ts "" peerclosed TIME_WAIT ts-reuse
	bound_case bound6-fw2-ts -6 closed FIN_WAIT2 ts-reuse
	bound_case bound6-tw-ts -6 peerclosed TIME_WAIT ts-reuse
	bound_case boundm-tw-ts -m peerclosed TIME_WAIT ts-reuse
else
	tap_skip "closed holder with timestamps on" "tcp_timestamps is 0 here"
fi

# ---- global alert budget ---------------------------------------------------------
# alert_burst=1 in a window that cannot end during the test (alert_interval
# an hour; "clear" from the initial netns starts a fresh one): destination
# A takes the only alert, B's failures right after are dropped by the
# global budget however slow the runs are. B has never been reported, so
# once the budget allows (alert_burst raised: no waiting for the window)
# B alerts, and its line counts every failure that was not printed.
echo 1 >$PB/alert_burst
echo 3600 >$PB/alert_interval
echo "40000 40007" >$SYS/ip_local_port_range
# Start from a range no socket holds: a bound case's holder (bind() picks
# from the whole range) left in TIME_WAIT or FIN_WAIT2 (60 s) on a port of
# 40000-40007 keeps connect() off that port for every destination. CI once
# saw budget-b-later make fewer than 8 connects; the cause is not proven
# (the holders seen so far were earlier cases' TIME_WAITs to port 39997,
# which do not block it), so the holders are printed when there are any.
held=$(ports_held 40000 40007 | tr '\n' ';')
i=0
while [ -n "$(ports_held 40000 40007)" ] && [ $i -lt 70 ]; do
	sleep 1
	i=$((i + 1))
done
[ -z "$held" ] || diag "waited ${i} s for 40000-40007 to be free of: $held"
echo clear >$P
c0=$(eaddr_counters)
s0=$(counter alerts-suppressed)
dmesg_mark budget
tcd-eaddr exhaust -l 39991 10 >$O/budget-a.out 2>&1
tcd-eaddr exhaust -l 39990 10 >$O/budget-b.out 2>&1
fa=$(alert_kv "$(grep '^summary ' $O/budget-a.out)" eaddrnotavail)
fb=$(alert_kv "$(grep '^summary ' $O/budget-b.out)" eaddrnotavail)
al=$(eaddr_alerts budget)
if [ "${fa:-0}" -ge 1 ] && [ "${fb:-0}" -ge 1 ] && [ "$(nlines "$al")" -eq 1 ] &&
	[ "$(alert_kv "$al" dst)" = 127.0.0.1:39991 ]; then
	tap_ok "global budget: one alert (127.0.0.1:39991), 127.0.0.1:39990's $fb dropped"
else
	tap_fail "global budget: one alert (127.0.0.1:39991), 127.0.0.1:39990's dropped" \
		"failures: $fa, $fb; alerts:" "$al"
fi
tap_check "global budget: dropped alerts still counted" \
	test "$(eaddr_counters)" = "$(cnt_add "$c0" $((fa + fb)) 0 $((fa + fb)))"
# Every failure but A's printed one is suppressed, by A's own 5 s or by the
# global budget: the counter says so (its name is in tcd_counter_names).
is "global budget: alerts-suppressed +$((fa + fb - 1))" \
	"$(($(counter alerts-suppressed) - s0))" $((fa + fb - 1))
echo 1000 >$PB/alert_burst
X_PRIOR=${fb:-0} X_SUPP=${fb:-0} X_TWNEW=0 X_ALERTS=
exhaust_case budget-b-later 40000 40007 sysctl 127.0.0.1:0 127.0.0.1:39990 8 -- \
	tcd-eaddr exhaust -l 39990 9
echo 10 >$PB/alert_burst
echo 5 >$PB/alert_interval

restore
tap_check "sysctls restored" test "$(cat $SYS/ip_local_port_range) $(cat $SYS/tcp_timestamps)" \
	= "$orig_range $orig_ts"
tap_check "module unloads" unload_module
