# SPDX-License-Identifier: GPL-2.0
# connect-failed (failed.c): every failed connect, blocking or not, with its
# cause, mode and owner. Each case makes the real failure (tcd-fail prints
# what the program saw: errno or SO_ERROR, its thread, its source port) and
# checks the module's line for that destination against it:
#   no-listener            closed loopback port, IPv4 and IPv6
#   listener-backlog-full  loopback listener with a full accept queue
#   peer-reset             a veth peer in another netns with no listener
#   icmp-unreachable       that peer as a router: unreachable/prohibit routes
#   no-synack              SYNs into a dummy device, direct and via a gateway
#   no-route               an address with no route at all
#   denied                 a cgroup BPF connect4 hook that refuses (EPERM)
#   other                  an IPv4 socket connect()ed to an IPv6 address
# (saddr-lost and route-lost: 40-saddr), then cgroup attribution, no line for successes or a connect still in
# progress, and a storm of refused connects within the alert budget.
# tcd-timeout: 400

P=/proc/tcpconndiag
F=/tmp/failed
rm -rf $F
mkdir -p $F
STORM=${TCD_FAILED_STORM:-100000}

old_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
restore() {
	ip link del tcdfv0 2>/dev/null
	ip link del tcdfd0 2>/dev/null
	[ -n "${NS_PID:-}" ] && kill "$NS_PID" 2>/dev/null
	[ -d /sys/fs/cgroup/tcdfcg ] && rmdir /sys/fs/cgroup/tcdfcg/sub /sys/fs/cgroup/tcdfcg/deny \
		/sys/fs/cgroup/tcdfcg/denyn /sys/fs/cgroup/tcdfcg 2>/dev/null
	echo "$old_fwd" >/proc/sys/net/ipv4/ip_forward
	unload_module
}
trap restore EXIT
trap 'exit 143' TERM INT

tap_check "module loads" load_module || exit 0

# failed_line DST: the first connect-failed alert for DST since the mark.
failed_line() {
	dmesg_since_mark failed | grep "tcpconndiag: connect-failed .* dst=$1 " | head -n 1
}

# retrans: TCP RetransSegs of this netns (/proc/net/snmp).
retrans() {
	awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# expect CASE DST CAUSE OUTFILE [KEY=VALUE...]: the program's line in OUTFILE
# against the module's line for DST: thread, source port, errno, mode, cause.
expect() {
	_out=$(grep -m 1 '^attempt ' "$4")
	_line=$(failed_line "$2")
	_tid=$(alert_kv " $_out" tid)
	_err=$(alert_kv " $_out" err)
	_mode=$(alert_kv " $_out" mode)
	_sport=$(alert_kv " $_out" sport)
	_c=$1 _dst=$2 _cause=$3
	shift 4
	diag "$_c: ${_line:-<no line>}"
	if [ -z "$_out" ] || [ -z "$_line" ]; then
		tap_fail "$_c: connect-failed line for $_dst" "program: ${_out:-<none>}" \
			"$(dmesg_since_mark failed | grep 'tcpconndiag: ' | tail -n 5)"
		return
	fi
	check_fields "$_c: line matches the program ($_err, $_mode, cause=$_cause)" "$_line" \
		pid="$_tid" err="$_err" mode="$_mode" cause="$_cause" uid=0 "$@"
	case $(alert_kv "$_line" src) in
	*:"$_sport") tap_ok "$_c: src port is the socket's ($_sport)" ;;
	*) tap_fail "$_c: src port is the socket's ($_sport)" "line: $_line" ;;
	esac
}

dmesg_mark failed
c_nl=$(counter cause-no-listener)

# ---- no-listener: closed loopback ports, blocking and not, IPv4 and IPv6 ------
for v in 4 6; do
	for m in b n; do
		fl=; [ $m = n ] && fl=-n
		f6=; [ $v = 6 ] && f6=-6
		tcd-fail refused $f6 $fl 1 >$F/nl$v$m.out 2>&1
		port=$(alert_kv " $(grep -m 1 ^attempt $F/nl$v$m.out)" dport)
		dst=127.0.0.1:$port
		[ $v = 6 ] && dst="\\[::1\\]:$port"
		expect "no-listener v$v $m" "$dst" no-listener $F/nl$v$m.out comm=tcd-fail \
			"$(if [ $m = n ]; then echo mode=nonblocking; else echo mode=blocking; fi)"
	done
done
is "no-listener: counter cause-no-listener +4" "$(($(counter cause-no-listener) - c_nl))" 4

# ---- listener-backlog-full ------------------------------------------------------
for c in "4 b" "4 n" "6 b"; do
	set -- $c
	fl=; [ $2 = n ] && fl=-n
	f6=; [ $1 = 6 ] && f6=-6
	tcd-fail backlog $f6 $fl >$F/bl$1$2.out 2>&1
	port=$(alert_kv " $(grep -m 1 ^attempt $F/bl$1$2.out)" dport)
	dst=127.0.0.1:$port
	[ $1 = 6 ] && dst="\\[::1\\]:$port"
	# backlog 0 and one connection queued: 1 > 0 is full.
	expect "backlog v$1 $2" "$dst" listener-backlog-full $F/bl$1$2.out accept_queue=1/0
done

# ---- a peer in another netns: reset, and ICMP from it as a router --------------
if netns_veth tcdfv0 && $NS ip addr add 10.201.0.2/24 dev "$NS_PEER" &&
	$NS ip link set "$NS_PEER" up && ip addr add 10.201.0.1/24 dev tcdfv0 &&
	ip link set tcdfv0 up && $NS sysctl -w net.ipv4.ip_forward=1 >/dev/null &&
	$NS ip route add unreachable 10.204.0.0/24 && $NS ip route add prohibit 10.205.0.0/24 &&
	ip route add 10.204.0.0/24 via 10.201.0.2 && ip route add 10.205.0.0/24 via 10.201.0.2
then
	# One destination per case: lines are one per destination and cause.
	tcd-fail to 10.201.0.2 81 >$F/prb.out 2>&1
	expect "peer-reset b" 10.201.0.2:81 peer-reset $F/prb.out
	tcd-fail to -n 10.201.0.2 82 2 >$F/prn.out 2>&1
	expect "peer-reset n" 10.201.0.2:82 peer-reset $F/prn.out
	grep -q "^failed-dest: dst=10.201.0.2:82 cause=peer-reset count=2 err=ECONNREFUSED mode=nonblocking .* comm=tcd-fail cgroup=/$" $P &&
		tap_ok "peer-reset: /proc failed-dest line counts both attempts" ||
		tap_fail "peer-reset: /proc failed-dest line counts both attempts" "$(grep ^failed-dest $P)"
	tcd-fail to -s 2 10.204.0.5 80 >$F/un.out 2>&1
	expect "icmp unreachable route" 10.204.0.5:80 icmp-unreachable $F/un.out \
		err=EHOSTUNREACH icmp_from=10.201.0.2 icmp_type=3 icmp_code=1
	tcd-fail to -n -s 2 10.205.0.5 80 >$F/pro.out 2>&1
	expect "icmp prohibit route, non-blocking" 10.205.0.5:80 icmp-unreachable $F/pro.out \
		err=EHOSTUNREACH icmp_from=10.201.0.2 icmp_type=3 icmp_code=13
	grep -E '^(probe: tcp|counter: cause|counter: failed)' $P | sed 's/^/# /'
else
	tap_fail "veth pair into a router netns" "peer '$NS_PEER' pid ${NS_PID:-}" "$(ip addr)"
fi

# ---- no-synack: a dummy device swallows the SYNs --------------------------------
if load_netmod dummy && ip link add tcdfd0 type dummy && ip link set tcdfd0 up &&
	ip addr add 10.202.0.1/24 dev tcdfd0 && ip route add 10.203.0.0/24 via 10.202.0.2
then
	for c in "10.202.0.2 direct b" "10.203.0.9 10.202.0.2 n"; do
		set -- $c
		fl=; [ $3 = n ] && fl=-n
		r0=$(retrans)
		tcd-fail to $fl -s 1 $1 80 >$F/ns$3.out 2>&1
		syns=$(($(retrans) - r0 + 1))
		expect "no-synack via $2" "$1:80" no-synack $F/ns$3.out err=ETIMEDOUT dev=tcdfd0 \
			via="$2" syns=$syns
		el=$(alert_kv "$(failed_line "$1:80")" elapsed_ms)
		[ -n "$el" ] && [ "$el" -ge 1500 ] && [ "$el" -le 4000 ] &&
			tap_ok "no-synack via $2: elapsed_ms=$el (SYN retries of TCP_SYNCNT=1)" ||
			tap_fail "no-synack via $2: elapsed_ms in 1500..4000" "got '$el'"
	done
	# A non-blocking connect still in progress when closed: no line.
	tcd-fail inprog 10.202.0.3 80 300 >$F/inprog.out 2>&1
	[ -z "$(failed_line 10.202.0.3:80)" ] && tap_ok "no line for a connect closed in progress" ||
		tap_fail "no line for a connect closed in progress" "$(failed_line 10.202.0.3:80)"
else
	tap_fail "dummy device for no-synack" "$(ip addr)"
fi

# ---- no-route: connect() itself fails in the route lookup -----------------------
if ip route get 198.51.100.7 >/dev/null 2>&1; then
	tap_fail "no-route: 198.51.100.7 must have no route" "$(ip route get 198.51.100.7)"
else
	tcd-fail to 198.51.100.7 80 >$F/nrb.out 2>&1
	expect "no-route b" 198.51.100.7:80 no-route $F/nrb.out err=ENETUNREACH
	tcd-fail to -n 198.51.100.8 80 >$F/nrn.out 2>&1
	expect "no-route n" 198.51.100.8:80 no-route $F/nrn.out err=ENETUNREACH
fi

# ---- cgroup: the socket's owner's cgroup, from a child cgroup --------------------
mountpoint -q /sys/fs/cgroup 2>/dev/null || grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts ||
	mount -t cgroup2 none /sys/fs/cgroup
if mkdir -p /sys/fs/cgroup/tcdfcg/sub; then
	for m in b n; do
		fl=; [ $m = n ] && fl=-n
		sh -c "echo \$\$ >/sys/fs/cgroup/tcdfcg/sub/cgroup.procs && exec tcd-fail refused $fl 1" \
			>$F/cg$m.out 2>&1
		port=$(alert_kv " $(grep -m 1 ^attempt $F/cg$m.out)" dport)
		expect "cgroup $m" "127.0.0.1:$port" no-listener $F/cg$m.out cgroup=/tcdfcg/sub
	done
else
	tap_fail "cgroup2 child cgroup" "$(grep cgroup /proc/mounts)"
fi

# ---- denied: a cgroup BPF connect4 program refuses every connect -----------------
# The program is attached to a child cgroup of our own, which tcd-fail enters;
# the hook runs in __inet_stream_connect() before any packet: EPERM.
c_den=$(counter cause-denied)
c_oth=$(counter cause-other)
for m in b n; do
	fl=; [ $m = n ] && fl=-n
	cg=/sys/fs/cgroup/tcdfcg/deny; [ $m = n ] && cg=${cg}n
	if mkdir -p $cg; then
		tcd-fail denied $fl $cg >$F/den$m.out 2>&1
		port=$(alert_kv " $(grep -m 1 ^attempt $F/den$m.out)" dport)
		if [ -n "$port" ]; then
			expect "denied $m" "127.0.0.1:$port" denied $F/den$m.out err=EPERM \
				cgroup=/tcdfcg/deny${fl:+n} hook=cgroup-bpf
		else
			tap_fail "denied $m: a cgroup BPF connect hook refused" "$(cat $F/den$m.out)"
		fi
	else
		tap_fail "denied $m: cgroup2 child cgroup $cg" "$(grep cgroup /proc/mounts)"
	fi
done

# ---- other: what no cause covers, e.g. an IPv4 socket given an IPv6 address ------
# The socket has no destination (0.0.0.0:0): one line, the non-blocking
# attempt right after falls in the same destination's interval (counted).
dmesg_mark other
tcd-fail badfamily >$F/othb.out 2>&1
tcd-fail badfamily -n >$F/othn.out 2>&1
line=$(dmesg_since_mark other | grep 'tcpconndiag: connect-failed ' | head -n 1)
out=$(grep -m 1 '^attempt ' $F/othb.out)
diag "other: ${line:-<no line>}"
check_fields "other b: line matches the program (EAFNOSUPPORT, cause=other)" "$line" \
	pid="$(alert_kv " $out" tid)" err="$(alert_kv " $out" err)" cause=other \
	mode="$(alert_kv " $out" mode)" uid=0
is "other n: the program saw EAFNOSUPPORT too" "$(alert_kv " $(grep -m 1 '^attempt ' $F/othn.out)" err)" \
	EAFNOSUPPORT
is "denied and other: counters cause-denied +2, cause-other +2" \
	"$(($(counter cause-denied) - c_den)) $(($(counter cause-other) - c_oth))" "2 2"

# ---- no line for successes -------------------------------------------------------
dmesg_mark ok
tcd-fail ok 20 >$F/ok.out 2>&1
tcd-fail ok -n 20 >$F/okn.out 2>&1
tcd-fail ok -6 -n 10 >$F/ok6.out 2>&1
is "ok: 50 connects succeeded" "$(grep -c 'err=0 ' $F/ok.out $F/okn.out $F/ok6.out |
	awk -F: '{ s += $2 } END { print s }')" 50
bad=$(dmesg_since_mark ok | grep 'tcpconndiag: connect-failed')
[ -z "$bad" ] && tap_ok "no connect-failed line for 50 successful connects" ||
	tap_fail "no connect-failed line for 50 successful connects" "$bad"

# ---- storm: refused connects to one destination, within the budget ----------------
dmesg_mark storm
p0=$(counter failed-printed)
s0=$(counter failed-suppressed)
t0=$(cut -d. -f1 /proc/uptime)
tcd-fail storm "$STORM" >$F/storm.out 2>&1
t1=$(cut -d. -f1 /proc/uptime)
refused=$(alert_kv " $(cat $F/storm.out)" refused)
lines=$(dmesg_since_mark storm | grep -c 'tcpconndiag: connect-failed')
dp=$(($(counter failed-printed) - p0))
ds=$(($(counter failed-suppressed) - s0))
is "storm: all $STORM connects refused" "$refused" "$STORM"
is "storm: printed + suppressed = failures" "$((dp + ds))" "$refused"
is "storm: lines in the log = failed-printed" "$lines" "$dp"
# One line per destination and cause per alert_interval (5 s).
max=$(((t1 - t0) / 5 + 2))
[ "$lines" -le "$max" ] && tap_ok "storm: $lines lines in $((t1 - t0)) s (at most $max)" ||
	tap_fail "storm: at most one line per 5 s" "$lines lines in $((t1 - t0)) s"
diag "storm: $STORM refused connects in $((t1 - t0)) s, $dp printed, $ds suppressed"
missed=$(missed_task_probes)
is "no task-context probe missed a hit" "${missed:-0}" 0

# One real line per cause, and the /proc table, for the record.
dmesg_since_mark failed | grep -o 'tcpconndiag: connect-failed .*' |
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^cause=/) c = $i; if (!(c in s)) { s[c] = 1; print "# " $0 } }'
grep -E '^(failed-dest|counter: (cause|failed))' $P | sed 's/^/# /'
