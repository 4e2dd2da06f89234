# SPDX-License-Identifier: GPL-2.0
# KTAP helpers shared by /init and every test script (busybox ash, no bashisms).
# Tests run as separate processes, so the test counter lives in files under
# $TCD_STATE rather than in shell variables.

TCD_STATE=${TCD_STATE:-/tmp/tcd}
TCD_MODULE=${TCD_MODULE:-/tcpconndiag.ko}
# Kernel log lines that fail a run: warnings, oopses, lockdep and the
# watchdogs' headlines (hung task, RCU stall, soft lockup), so a report's
# first line names what it is. run-guest.sh reads this line from here.
TCD_KERNEL_BAD_RE='WARNING:|BUG:|Oops|Kernel panic|general protection|Call Trace|RIP:|INFO: task .* blocked|rcu: INFO:|detected stall|hung_task'

# Serialise counter updates: a test may report from background jobs. Busybox
# here has no flock, so use an atomic mkdir; break a lock left by a killed
# holder after ~2 s instead of deadlocking the whole run.
_tcd_lock() {
	_i=0
	until mkdir "$TCD_STATE/lock.d" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -ge 2000 ]; then
			rm -rf "$TCD_STATE/lock.d"
			_i=0
		fi
		usleep 1000
	done
}

_tcd_unlock() {
	rmdir "$TCD_STATE/lock.d" 2>/dev/null
}

_tcd_inc() {
	_v=$(cat "$TCD_STATE/$1" 2>/dev/null || echo 0)
	_v=$((_v + 1))
	echo "$_v" >"$TCD_STATE/$1"
}

# _tcd_emit pass|fail|skip "ok"|"not ok" desc [directive]
_tcd_emit() {
	_d=$3
	# '#' would start a KTAP directive inside the description.
	case $_d in *'#'*) _d=$(printf '%s' "$_d" | tr '#' '_') ;; esac
	[ -n "${TCD_TEST:-}" ] && _d="$TCD_TEST: $_d"
	_tcd_lock
	_tcd_inc count
	# A skip is not a pass: it is counted on its own.
	case $1 in
	fail) _tcd_inc fail ;;
	skip) _tcd_inc skip ;;
	*) _tcd_inc pass ;;
	esac
	printf '%s %d %s%s\n' "$2" "$(cat "$TCD_STATE/count")" "$_d" "${4:+ # $4}"
	_tcd_unlock
}

# Reset counters; called once by /init.
tcd_counters_init() {
	mkdir -p "$TCD_STATE"
	for _f in count pass fail skip; do echo 0 >"$TCD_STATE/$_f"; done
	rm -rf "$TCD_STATE/lock.d"
}

tcd_counter() {
	cat "$TCD_STATE/$1" 2>/dev/null || echo 0
}

# diag "text": every line of text as a KTAP diagnostic.
diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

tap_ok() {
	_tcd_emit pass "ok" "$1"
}

# tap_fail "desc" ["reason"...]: each reason (may be multi-line) becomes '# ' lines.
# (ash has no locals: the _tf_ names keep the callers' variables intact.)
tap_fail() {
	_tf_desc=$1
	shift
	_tcd_emit fail "not ok" "$_tf_desc"
	for _tf_line in "$@"; do
		[ -n "$_tf_line" ] && diag "$_tf_line"
	done
	return 0
}

tap_skip() {
	_tcd_emit skip "ok" "$1" "SKIP ${2:-}"
}

# tap_check "desc" cmd [args...]: ok if cmd exits 0, else not ok with its
# status and the tail of its output. Returns cmd's status.
tap_check() {
	_desc=$1
	shift
	_out=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		tap_ok "$_desc"
	else
		tap_fail "$_desc" "command failed (exit $_rc): $*" \
			"$(printf '%s\n' "$_out" | sed 's/^# //' | tail -n 15)"
	fi
	return "$_rc"
}

# kver: major.minor of the running kernel, e.g. 6.1
kver() {
	uname -r | sed 's/^\([0-9]*\.[0-9]*\).*/\1/'
}

# kver_ge 6.1: true if the running kernel is at least that version.
kver_ge() {
	_have=$(kver)
	[ "${_have%%.*}" -gt "${1%%.*}" ] ||
		{ [ "${_have%%.*}" -eq "${1%%.*}" ] && [ "${_have#*.}" -ge "${1#*.}" ]; }
}

# dmesg_mark [name] / dmesg_since_mark [name]: kernel log lines logged after
# the mark. The mark goes in at KERN_INFO so it stays off the console.
dmesg_mark() {
	_m="tcd-mark-${1:-default}-$$-$(cat /proc/sys/kernel/random/uuid)"
	echo "$_m" >"$TCD_STATE/mark.${1:-default}"
	echo "<6>$_m" >/dev/kmsg
}

dmesg_since_mark() {
	_m=$(cat "$TCD_STATE/mark.${1:-default}" 2>/dev/null)
	if [ -z "$_m" ] || ! dmesg | grep -q -F "$_m"; then
		echo "dmesg_since_mark: mark '${1:-default}' not found, full log follows" >&2
		dmesg
		return 1
	fi
	dmesg | sed -n "/$_m/,\$p" | sed 1d
}

have_module() {
	[ -f "$TCD_MODULE" ]
}

module_loaded() {
	grep -q "^${1:-tcpconndiag} " /proc/modules
}

# load_module [param=value...]: insmod the module under test; on failure print
# why (insmod output and the kernel log it caused) and return non-zero.
load_module() {
	if ! have_module; then
		diag "load_module: $TCD_MODULE is not in the initramfs (module not built?)"
		return 1
	fi
	dmesg_mark load_module
	if ! _out=$(insmod "$TCD_MODULE" "$@" 2>&1); then
		diag "load_module: insmod $TCD_MODULE $* failed: $_out"
		diag "kernel log since insmod:"
		dmesg_since_mark load_module 2>&1 | tail -n 20 | sed 's/^/#   /'
		return 1
	fi
}

unload_module() {
	module_loaded tcpconndiag || return 0
	# No alert may have been cut at the buffer's end, in any test.
	_tr=$(counter alerts-truncated)
	[ "${_tr:-0}" = 0 ] || tap_fail "no alert line was truncated" \
		"counter alerts-truncated $_tr" "$(dmesg | grep 'tcpconndiag: ' | awk '{ print length($0) }' | sort -n | tail -n 1) chars in the longest alert"
	if ! _out=$(rmmod tcpconndiag 2>&1); then
		diag "unload_module: rmmod failed: $_out"
		grep '^tcpconndiag ' /proc/modules | sed 's/^/#   /'
		return 1
	fi
}

# load_netmod dummy|veth: insmod the bundled copy and its dependencies
# (listed by run-guest.sh in $dir/tcd-netmods, load order); idempotent.
load_netmod() {
	_dir=/lib/modules/$(uname -r)
	module_loaded "$1" && return 0
	# Built in: nothing to load.
	[ -d "/sys/module/$1" ] && ! [ -f "/sys/module/$1/refcnt" ] && return 0
	_list=$(sed -n "s/^$1: //p" "$_dir/tcd-netmods" 2>/dev/null)
	if [ -z "$_list" ]; then
		diag "load_netmod: $1 is not bundled in the initramfs"
		return 1
	fi
	for _ko in $_list; do
		_n=$(basename "$_ko" .ko)
		module_loaded "$(echo "$_n" | tr - _)" && continue
		if ! _out=$(insmod "$_dir/$_ko" 2>&1); then
			diag "load_netmod: insmod $_ko failed: $_out"
			dmesg | tail -n 10 | sed 's/^/#   /'
			return 1
		fi
	done
}

# counter NAME [FILE]: the value of "counter: NAME N" in /proc/tcpconndiag
# (or in a saved copy of it).
counter() {
	sed -n "s/^counter: $1 \([0-9]*\)$/\1/p" "${2:-/proc/tcpconndiag}"
}

# is DESC GOT WANT: ok when GOT is non-empty and equals WANT; returns 1 if not.
is() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		tap_ok "$1 ($2)"
	else
		tap_fail "$1" "got '$2', want '$3'"
		return 1
	fi
}

# cmp_ok DESC A OP B [NOTE]: numeric comparison (decimals allowed), OP one of < <= > >=.
cmp_ok() {
	if [ -n "$2" ] && [ -n "$4" ] &&
		awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN {
			a += 0; b += 0
			exit !((op == "<" && a < b) || (op == "<=" && a <= b) ||
			       (op == ">" && a > b) || (op == ">=" && a >= b))
		}'; then
		tap_ok "$1 ($2 $3 $4${5:+; $5})"
	else
		tap_fail "$1" "want '$2' $3 '$4'${5:+ ($5)}"
	fi
}

# table FIELD [FILE]: used, capacity, evictions or stale from the table: line.
table() {
	sed -n "s/^table: .*$1=\([0-9]*\).*/\1/p" "${2:-/proc/tcpconndiag}"
}

# probe FIELD SYMBOL [FILE]: hits or nmissed of one probe: line.
probe() {
	sed -n "s/^probe: $2 .*$1=\([0-9]*\).*/\1/p" "${3:-/proc/tcpconndiag}"
}

# Probes that can fire in softirq context (a retransmit timer, the last
# reference to a socket dropped by the network stack). The kernel drops such
# a hit when it interrupts another kprobe's handler on that CPU and counts it
# in nmissed: that is recursion, not a short maxactive, and it happens when
# it happens. Tests check its consequences instead (see rows_outlived_ok).
# kernel_reports: the kernel log's problem reports: each matching line with
# the three before it (a headline may match nothing) and the 40 after it
# (the stack trace).
kernel_reports() {
	dmesg | awk -v re="$TCD_KERNEL_BAD_RE" '
		{ l[NR % 4] = $0 }
		$0 ~ re {
			for (i = NR - 3; i < NR; i++) if (i > last && i > 0) print l[i % 4]
			upto = NR + 40
		}
		NR <= upto { print; last = NR }'
}

SOFTIRQ_PROBES='tcp_retransmit_skb|tcp_send_loss_probe|tcp_v4_err|tcp_v6_err'

# missed_task_probes [FILE]: probe: lines with nmissed != 0 among the probes
# that only run in task context, where a miss can only mean maxactive was
# too small. Empty when none missed.
missed_task_probes() {
	grep '^probe: ' "${1:-/proc/tcpconndiag}" | grep -v -E "^probe: ($SOFTIRQ_PROBES) " |
		grep -v ' nmissed=0 '
}

# wait_used N [SECS]: wait up to SECS (default 5) for the table to hold N rows.
wait_used() {
	_j=0
	while [ $_j -lt $((${2:-5} * 4)) ] && [ "$(table used)" != "$1" ]; do
		usleep 250000
		_j=$((_j + 1))
	done
}

# dev_v4 DEV ADDR/PLEN...: a fresh dummy device with these IPv4 addresses.
dev_v4() {
	_d=$1
	shift
	ip link add "$_d" type dummy && ip link set "$_d" up || return 1
	for _a in "$@"; do
		ip addr add "$_a" dev "$_d" || return 1
	done
}

# rows_outlived_ok DESC: once every socket with a row is closed, no row is
# left (waits up to 5 s for sockets still closing). The destruction is a
# tracepoint, which drops nothing (nmissed stays 0); were a row left, a later
# socket at the same address would drop it (table stale=), see 55-stale.t.
rows_outlived_ok() {
	wait_used 0
	_used=$(table used)
	_dm=$(probe nmissed tcp_destroy_sock)
	if [ "$_used" = 0 ]; then
		tap_ok "$1: no row outlived its socket (used=0, destruct nmissed=$_dm)"
	elif [ -n "$_used" ] && [ "$_used" -le "${_dm:-0}" ]; then
		tap_ok "$1: rows left ($_used) <= destruct hits the kernel dropped ($_dm)"
	else
		tap_fail "$1: no row outlived its socket" \
			"used=$_used, destruct nmissed=$_dm" "$(grep '^sock: ' /proc/tcpconndiag | head -n 5)"
	fi
}

# diag_alerts: drop connect-failed lines from stdin. The ordinary failures
# every test provokes are explained there (45-failed.t tests them); the other
# tests check the diagnoses.
diag_alerts() {
	grep -v 'tcpconndiag: connect-failed '
}

# The one key=value parser of the tests. Keys are space-separated, so " KEY="
# never matches inside another key or a quoted hint's text before it.
# kv KEY: the value of KEY= in the first line of stdin that has it.
kv() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" | head -n 1
}

# kq KEY: the value of KEY="..." (quoted) in the first line of stdin that has it.
kq() {
	sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p" | head -n 1
}

# alert_kv LINE KEY: the value of " KEY=" in an alert or /proc LINE.
alert_kv() {
	printf '%s\n' "$1" | kv "$2"
}

# check_fields DESC LINE KEY=VALUE...: ok when every key has exactly that value.
check_fields() {
	_cf_desc=$1
	_cf_line=$2
	shift 2
	_cf_bad=
	for _cf_kv in "$@"; do
		_cf_got=$(alert_kv "$_cf_line" "${_cf_kv%%=*}")
		[ "$_cf_got" = "${_cf_kv#*=}" ] ||
			_cf_bad="$_cf_bad ${_cf_kv%%=*}: want '${_cf_kv#*=}' got '$_cf_got';"
	done
	if [ -z "$_cf_bad" ]; then
		tap_ok "$_cf_desc"
	else
		tap_fail "$_cf_desc" "$_cf_bad" "line: ${_cf_line:-<none>}"
	fi
}

# wait_line FILE REGEX [STEPS]: until a line of FILE matches, polling every
# 20 ms at most STEPS times (default 600: 12 s); false if it never did.
wait_line() {
	_wl=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $_wl -lt "${3:-600}" ]; do
		usleep 20000
		_wl=$((_wl + 1))
	done
	grep -q "$2" "$1" 2>/dev/null
}

# netns_veth DEV: a veth pair DEV <-> a peer moved into a new network
# namespace held by a sleeping process. Sets NS_PID, NS_PEER and NS ("nsenter
# ... -n", to run commands there); the caller kills NS_PID.
netns_veth() {
	load_netmod veth && ip link add "$1" type veth || return 1
	NS_PEER=$(ip -o link show | sed -n "s/^[0-9]*: \(veth[0-9]*\)@$1.*/\1/p")
	unshare -n sleep 1000 &
	NS_PID=$!
	_i=0
	while [ "$(readlink /proc/$NS_PID/ns/net)" = "$(readlink /proc/self/ns/net)" ] &&
		[ $_i -lt 100 ]; do
		usleep 20000
		_i=$((_i + 1))
	done
	NS="nsenter -t $NS_PID -n"
	[ -n "$NS_PEER" ] && ip link set "$NS_PEER" netns "$NS_PID" && $NS ip link set lo up
}
