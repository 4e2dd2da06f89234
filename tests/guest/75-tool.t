# SPDX-License-Identifier: GPL-2.0
# The tcpconndiag command (tools/tcpconndiag at /usr/sbin/, under busybox)
# during real diagnoses: "watch" and "watch --json" follow /dev/kmsg while
# refused connects and an ephemeral-port exhaustion happen; "status" and
# "status --json" report them; "prometheus" exports them; exit 3 once the
# module is gone. Prints the outputs as "TOOL| " lines and the module's
# kmsg records as "KMSG| " lines (regenerate tests/data/kmsg-VER.txt with
#   sed -n 's/^KMSG| //p' build/logs/6.1.log).
# tcd-timeout: 90

C=/usr/sbin/tcpconndiag
R=/proc/sys/net/ipv4/ip_local_port_range

tap_check "command installed at $C" test -x $C || exit 0
unload_module
tap_check "module loads" load_module || exit 0

# Followers started before the workload: only new alerts must show.
dmesg_mark tool
tcpconndiag watch >/tmp/watch.out 2>/tmp/watch.err &
w1=$!
tcpconndiag watch --json >/tmp/watch.json 2>/tmp/watch-json.err &
w2=$!
# Both watchers say when they follow the log; events made before would be
# old to them.
i=0
while [ $i -lt 300 ] && ! { grep -q 'watching: ' /tmp/watch.err && grep -q 'watching: ' /tmp/watch-json.err; }; do
	usleep 100000
	i=$((i + 1))
done

tcd-conn ok 3 >/dev/null
tcd-conn refused 3 >/dev/null
old=$(cat $R)
echo "40000 40003" >$R
tcd-hold -p 5000 -n 5 >/tmp/hold.out 2>&1
echo "$old" >$R
sleep 1
kill $w1 $w2 2>/dev/null
# The reader loop: the cat under it goes with its process group at test end.
wait $w1 $w2 2>/dev/null

dmesg_since_mark tool >/tmp/log.since
nlog=$(grep -c 'tcpconndiag: eaddrnotavail ' /tmp/log.since)
nw=$(grep -c '^\[ *[0-9.]*\] eaddrnotavail (ephemeral-exhausted): tcd-hold\[[0-9]*\] .* -> 127.0.0.1:5000 EADDRNOTAVAIL .* -- ' /tmp/watch.out)
if [ "$nlog" -ge 1 ] && [ "$nw" = "$nlog" ]; then
	tap_ok "watch: one readable line per eaddrnotavail alert ($nw)"
else
	tap_fail "watch: one readable line per eaddrnotavail alert" "log: $nlog, watch: $nw" \
		"$(cat /tmp/watch.out /tmp/watch.err)" "$(grep 'tcpconndiag: ' /tmp/log.since | tail -n 5)"
fi
nmod=$(grep -c 'tcpconndiag: [a-z-]* .*hint="' /tmp/log.since)
tap_check "watch: every alert since it started, nothing older ($nmod in the log)" \
	test "$(wc -l </tmp/watch.out)" = "$nmod"
nj=$(grep -c '^{"ts":[0-9.]*,"event":"eaddrnotavail","pid":[0-9]*,.*"dst":"127.0.0.1:5000".*"hint":".*"}$' /tmp/watch.json)
tap_check "watch --json: one object per alert" test "$nj" = "$nlog" -a "$(wc -l </tmp/watch.json)" = "$nmod"

tcpconndiag status >/tmp/status.out 2>&1
tap_check "status exits 0" test $? -eq 0
tap_check "status: guard explained" grep -q "^guard: *$(sed -n 's/^guard: //p' /proc/tcpconndiag): " /tmp/status.out
r=$(sed -n 's/^counter: connect-econnrefused //p' /proc/tcpconndiag)
tap_check "status: refused connects counted ($r)" grep -qE "^  connect-econnrefused +$r\$" /tmp/status.out
tap_check "status: the exhausted destination listed" grep -qE '^  127\.0\.0\.1:5000 +eaddrnotavail ' /tmp/status.out
tcpconndiag status --json >/tmp/status.json
tap_check "status --json: one object with the counters" grep -q "^{\"version\":\"[0-9.]*\",.*\"connect-econnrefused\":$r," /tmp/status.json
tcpconndiag prometheus >/tmp/prom.out
tap_check "prometheus: refused counter exported" grep -qx "tcpconndiag_events_total{event=\"connect-econnrefused\"} $r" /tmp/prom.out

sed 's/^/TOOL| status| /' /tmp/status.out
sed 's/^/TOOL| watch| /' /tmp/watch.out
sed 's/^/TOOL| watch --json| /' /tmp/watch.json
timeout 1 cat /dev/kmsg | sed -n '/tcd-mark-tool-/,$p' | grep ';tcpconndiag: ' | sed 's/^/KMSG| /'

tap_check "module unloads" unload_module
tcpconndiag status >/tmp/gone.out 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q 'module not loaded' /tmp/gone.out; then
	tap_ok "status without the module: exit 3, says so"
else
	tap_fail "status without the module: exit 3, says so" "exit $rc" "$(cat /tmp/gone.out)"
fi
