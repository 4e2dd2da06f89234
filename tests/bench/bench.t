# SPDX-License-Identifier: GPL-2.0
# make bench: connect-path cost of tcpconndiag against no module and against
# tracefs probe events on the same functions, alternating in one boot, for
# IPv4/IPv6 and blocking/non-blocking connects; probe hits per cycle.
# Prints "bench:" result lines; asserts only that every run produced a figure.
# tcd-timeout: 1500

ROUNDS=${TCD_BENCH_ROUNDS:-5}
DUR=${TCD_BENCH_SECONDS:-3}
# Lists come '+'-separated through the kernel command line.
THREADS=$(echo "${TCD_BENCH_THREADS:-1}" | tr + ' ')
# Workloads: IPv4/IPv6, blocking (b) or non-blocking connect + poll (n).
WORKLOADS=$(echo "${TCD_BENCH_WORKLOADS:-4b 4n 6b 6n}" | tr + ' ')
T=/sys/kernel/tracing
[ -d $T/events ] || T=/sys/kernel/debug/tracing
P=/proc/tcpconndiag

echo "10000 60999" >/proc/sys/net/ipv4/ip_local_port_range

# The tracefs peer probes the module's own functions, each the same kind
# (kretprobe when the module has maxactive for it, the tracepoint's own
# event for a tracepoint, else kprobe): read them from the module's /proc
# file once.
load_module || exit 0
PEER=$(awk '$1 == "probe:" { sub("maxactive=", "", $5); print (/ kind=tracepoint/ ? "t" : $5 > 0 ? "r" : "p") ":" $2 }' $P)
unload_module
diag "peer probes: $(echo $PEER)"

# tp_enable 0|1 NAME: a kernel tracepoint's own tracefs event.
tp_enable() {
	for _e in $T/events/*/"$2"/enable; do
		echo "$1" >"$_e" || return 1
	done
}

peer_on() {
	for pf in $PEER; do
		case $pf in
		t:*) tp_enable 1 "${pf#t:}" || return 1 ;;
		*) echo "${pf%%:*}:tcdpeer/${pf#*:} ${pf#*:}" >>$T/kprobe_events || return 1 ;;
		esac
	done
	echo 1 >$T/events/tcdpeer/enable
}

peer_off() {
	echo 0 >$T/events/tcdpeer/enable
	for pf in $PEER; do
		case $pf in
		t:*) tp_enable 0 "${pf#t:}" ;;
		*) echo "-:tcdpeer/${pf#*:}" >>$T/kprobe_events ;;
		esac
	done
}

# A second build of the module, when bundled (lab/bench.sh BEFORE=REV): the
# same boot measures the change side by side.
CONFIGS="none module tracefs"
[ -f /tcpconndiag-before.ko ] && CONFIGS="none before module tracefs"

setup() {
	case $1 in
	none) ;;
	module) load_module ;;
	before) TCD_MODULE=/tcpconndiag-before.ko load_module ;;
	tracefs) peer_on ;;
	esac
}

teardown() {
	case $1 in
	none) ;;
	module | before) unload_module ;;
	tracefs) peer_off ;;
	esac
}

flags() {
	case $1 in
	4b) echo "" ;;
	4n) echo "-n" ;;
	6b) echo "-6" ;;
	6n) echo "-6 -n" ;;
	esac
}

# probe_counts: "SYMBOL HITS" per probe of the loaded module.
probe_counts() {
	awk '$1 == "probe:" { sub("hits=", "", $3); print $2, $3 }' $P
}

: >/tmp/bench.raw
: >/tmp/bench.hits
fails=0
r=1
while [ $r -le "$ROUNDS" ]; do
	# Rotate the order each round so no configuration always runs first.
	order=$(echo $CONFIGS | awk -v r=$r '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
	for cfg in $order; do
		if ! setup $cfg; then
			fails=$((fails + 1))
			diag "setup $cfg failed"
			continue
		fi
		# A short run first, not counted: the first connects after a
		# change of configuration pay for it (text patching, RCU
		# callbacks); one such round spread 6.12's module column by 28 %.
		tcd-bench 0.05 1 >/dev/null 2>&1
		for w in $WORKLOADS; do
			for th in $THREADS; do
				[ $cfg = module ] && probe_counts >/tmp/bench.h0
				out=$(tcd-bench "$DUR" $th $(flags $w))
				v=$(echo "$out" | sed -n 's/.*cycles_per_s=\([0-9]*\).*/\1/p')
				c=$(echo "$out" | sed -n 's/^cycles=\([0-9]*\).*/\1/p')
				if [ -n "$v" ]; then
					echo "$cfg $w $th $v" >>/tmp/bench.raw
					diag "round $r $cfg $w threads=$th cycles_per_s=$v"
				else
					fails=$((fails + 1))
				fi
				[ $cfg = module ] && [ -n "$c" ] && probe_counts |
					awk -v w=$w -v c=$c 'NR == FNR { h[$1] = $2; next } { print w, $1, $2 - h[$1], c }' \
						/tmp/bench.h0 - >>/tmp/bench.hits
			done
		done
		teardown $cfg
	done
	r=$((r + 1))
done

# median FILTER...: the median of the matching values.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Medians, ratios to the no-module baseline, and the spread of each
# configuration ((max - min) / median).
for w in $WORKLOADS; do
	for th in $THREADS; do
		line="bench: kernel=$(uname -r) workload=$w threads=$th rounds=$ROUNDS seconds=$DUR"
		for cfg in $CONFIGS; do
			awk -v c=$cfg -v w=$w -v t=$th '$1 == c && $2 == w && $3 == t { print $4 }' \
				/tmp/bench.raw >/tmp/bench.v
			m=$(median </tmp/bench.v)
			sp=$(sort -n /tmp/bench.v | awk -v m="$m" '{ v[NR] = $1 } END { if (m > 0) printf "%.2f", (v[NR] - v[1]) * 100 / m }')
			eval "med_$cfg=$m"
			line="$line $cfg=$m spread_$cfg=${sp}%"
		done
		[ -f /tcpconndiag-before.ko ] &&
			line="$line before_ratio=$(awk -v a=$med_before -v b=$med_none 'BEGIN { printf "%.4f", a / b }')"
		echo "$line module_ratio=$(awk -v a=$med_module -v b=$med_none 'BEGIN { printf "%.4f", a / b }')" \
			"tracefs_ratio=$(awk -v a=$med_tracefs -v b=$med_none 'BEGIN { printf "%.4f", a / b }')"
	done
done
# Probe hits per connect/accept/close cycle, per workload (all rounds).
awk '{ h[$1 " " $2] += $3; c[$1 " " $2] += $4 } END { for (k in h) if (h[k]) { split(k, a, " "); printf "bench: hits_per_cycle workload=%s probe=%s value=%.2f\n", a[1], a[2], h[k] / c[k] } }' \
	/tmp/bench.hits | sort

# Memory at default capacity: the module's own estimate, and what the kernel
# really gave up (Slab + VmallocUsed + Percpu before and after insmod).
meminfo_kb() {
	awk '$1 == "Slab:" || $1 == "VmallocUsed:" || $1 == "Percpu:" { s += $2 } END { print s }' /proc/meminfo
}
sync
echo 3 >/proc/sys/vm/drop_caches
m0=$(meminfo_kb)
load_module
m1=$(meminfo_kb)
size=$(awk '$1 == "tcpconndiag" { print $2 }' /proc/modules)
echo "bench: memory module_core_bytes=$size $(grep '^memory: ' $P | cut -d' ' -f2-) kernel_delta_kb=$((m1 - m0)) total_kb=$(((m1 - m0) + size / 1024))"

# Allocations made from the module's code during 2000 successful connects.
filter=$(tcd-bench modrange tcpconndiag)
echo 0 >$T/tracing_on
: >$T/trace
n_ev=0
for ev in kmalloc kmalloc_node kmem_cache_alloc kmem_cache_alloc_node; do
	[ -d $T/events/kmem/$ev ] || continue
	echo "$filter" >$T/events/kmem/$ev/filter && echo 1 >$T/events/kmem/$ev/enable &&
		n_ev=$((n_ev + 1))
done
h0=$(awk '$2 == "__inet_stream_connect" { sub("hits=", "", $3); print $3 }' $P)
echo 1 >$T/tracing_on
tcd-conn ok 2000 >/tmp/bench.ok
echo 0 >$T/tracing_on
h1=$(awk '$2 == "__inet_stream_connect" { sub("hits=", "", $3); print $3 }' $P)
allocs=$(grep -c 'kmalloc\|kmem_cache_alloc' $T/trace)
for ev in kmalloc kmalloc_node kmem_cache_alloc kmem_cache_alloc_node; do
	[ -d $T/events/kmem/$ev ] || continue
	echo 0 >$T/events/kmem/$ev/enable
	echo 0 >$T/events/kmem/$ev/filter
done
echo "bench: allocations_from_module=$allocs connects=$(grep -c 'err=0 ' /tmp/bench.ok) connect_hits=$((h1 - h0)) events_watched=$n_ev rows=$(sed -n 's/^table: used=\([0-9]*\).*/\1/p' $P)"
grep '^probe: ' $P | sed 's/^/bench: /'
unload_module

# A full table stays readable and the read is linear in its size: fill it
# with more rows than it holds (saddr-lost on non-blocking connects whose
# source address we delete), at 1x and 4x the default capacity.
load_netmod dummy && ip link add bench0 type dummy && ip link set bench0 up
for cap in 1024 4096; do
	load_module capacity=$cap alert_burst=1
	ip addr add 192.0.2.1/24 dev bench0
	rm -f /tmp/hold
	mkfifo /tmp/hold
	tcd-many fill $((cap + cap / 4)) 192.0.2.1 192.0.2.2 </tmp/hold >/tmp/fill.out 2>&1 &
	exec 9>/tmp/hold
	i=0
	while ! grep -q filled /tmp/fill.out && [ $i -lt 600 ]; do usleep 100000; i=$((i + 1)); done
	ip addr del 192.0.2.1/24 dev bench0
	i=0
	while ! grep -q "^table: used=$cap " $P && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
	echo "bench: full_table capacity=$cap $(grep '^table: ' $P | cut -d' ' -f2-) read: $(tcd-bench readtime $P 9)"
	exec 9>&-
	wait
	unload_module
done
ip link del bench0

if [ $fails -eq 0 ] && [ -n "$med_none" ] && [ -n "$med_module" ] && [ -n "$med_tracefs" ]; then
	tap_ok "bench produced every figure"
else
	tap_fail "bench produced every figure" "$fails runs failed"
fi
