# SPDX-License-Identifier: GPL-2.0
# make bench: connect-path cost of tcpconndiag against no module and against
# tracefs kretprobe events on the same functions, alternating in one boot.
# Prints "bench:" result lines; asserts only that every run produced a figure.
# tcd-timeout: 1500

ROUNDS=${TCD_BENCH_ROUNDS:-5}
DUR=${TCD_BENCH_SECONDS:-3}
T=/sys/kernel/tracing
[ -d $T/events ] || T=/sys/kernel/debug/tracing
FUNCS="__inet_stream_connect tcp_disconnect __inet_hash_connect inet_sk_rebuild_header inet6_sk_rebuild_header sk_stream_wait_connect inet_shutdown"
P=/proc/tcpconndiag

echo "10000 60999" >/proc/sys/net/ipv4/ip_local_port_range

peer_on() {
	for f in $FUNCS; do
		echo "r:tcdpeer/$f $f \$retval" >>$T/kprobe_events || return 1
	done
	echo "p:tcdpeer/inet_sock_destruct inet_sock_destruct" >>$T/kprobe_events || return 1
	echo 1 >$T/events/tcdpeer/enable
}

peer_off() {
	echo 0 >$T/events/tcdpeer/enable
	for f in $FUNCS inet_sock_destruct; do
		echo "-:tcdpeer/$f" >>$T/kprobe_events
	done
}

setup() {
	case $1 in
	none) ;;
	module) load_module ;;
	tracefs) peer_on ;;
	esac
}

teardown() {
	case $1 in
	none) ;;
	module) unload_module ;;
	tracefs) peer_off ;;
	esac
}

: >/tmp/bench.raw
fails=0
r=1
while [ $r -le "$ROUNDS" ]; do
	# Rotate the order each round so no configuration always runs first.
	case $((r % 3)) in
	0) order="none module tracefs" ;;
	1) order="module tracefs none" ;;
	2) order="tracefs none module" ;;
	esac
	for cfg in $order; do
		if ! setup $cfg; then
			fails=$((fails + 1))
			diag "setup $cfg failed"
			continue
		fi
		for th in 1 2; do
			v=$(tcd-bench "$DUR" $th | sed -n 's/.*cycles_per_s=\([0-9]*\).*/\1/p')
			if [ -n "$v" ]; then
				echo "$cfg $th $v" >>/tmp/bench.raw
				diag "round $r $cfg threads=$th cycles_per_s=$v"
			else
				fails=$((fails + 1))
			fi
		done
		if [ $cfg = module ]; then
			grep '^probe: ' $P >/tmp/bench.probes
			hits=$(awk '{ sub("hits=", "", $3); s += $3 } END { print s }' /tmp/bench.probes)
		fi
		teardown $cfg
	done
	r=$((r + 1))
done

# Medians and ratios to the no-module baseline.
for th in 1 2; do
	for cfg in none module tracefs; do
		m=$(awk -v c=$cfg -v t=$th '$1 == c && $2 == t { print $3 }' /tmp/bench.raw | sort -n |
			awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		eval "med_$cfg=$m"
	done
	echo "bench: kernel=$(uname -r) threads=$th rounds=$ROUNDS seconds=$DUR none=$med_none module=$med_module tracefs=$med_tracefs" \
		"module_ratio=$(awk -v a=$med_module -v b=$med_none 'BEGIN { printf "%.4f", a / b }')" \
		"tracefs_ratio=$(awk -v a=$med_tracefs -v b=$med_none 'BEGIN { printf "%.4f", a / b }')"
done

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
