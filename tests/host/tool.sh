#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tool.sh: tools/tcpconndiag status, watch and gate on the host, against the
# captured /proc files (tests/data/proc-*.txt) and alert streams
# (tests/data/kmsg-*.txt: kmsg records as /dev/kmsg gives them; the
# "-sample-" files are hand-written in issue 12's format until they can be
# captured): every number and row of the /proc file in the report and the
# JSON, one line or object per alert, the gate's verdicts, the documented
# exit codes, and the same output under busybox. ("prometheus" is
# prometheus.sh's.)
# shellcheck disable=SC2016 # sh -c scripts take their arguments as $1...
set -euo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

TOOL=$ROOT/tools/tcpconndiag
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TCD_GATE_STATE=$T/no-mark
PY=$(command -v python3 || true)

# json_ok FILE [lines]: valid JSON (one document, or one per line).
json_ok() {
	[ -n "$PY" ] || return 0
	"$PY" -c '
import json, sys
text = open(sys.argv[1]).read()
if len(sys.argv) > 2:
    for l in text.splitlines(): json.loads(l)
else:
    json.loads(text)' "$@"
}

bb=
if [ -x /bin/busybox ]; then
	bb=$T/bb
	mkdir -p "$bb"
	for a in sh awk sed cat id grep tail dirname mkdir date mv rm; do ln -sf /bin/busybox "$bb/$a"; done
fi
# same_under_busybox DESC ARGS...: busybox sh + awk give the same bytes and exit status.
same_under_busybox() {
	local desc=$1 rc1=0 rc2=0
	shift
	if [ -z "$bb" ]; then tap_skip "$desc: same under busybox" "no /bin/busybox"; return; fi
	sh "$TOOL" "$@" >"$T/dash.out" 2>&1 || rc1=$?
	PATH=$bb /bin/busybox sh "$TOOL" "$@" >"$T/bb.out" 2>&1 || rc2=$?
	if [ $rc1 = $rc2 ] && cmp -s "$T/dash.out" "$T/bb.out"; then
		tap_ok "$desc: same under busybox"
	else
		tap_fail "$desc: same under busybox" "exit $rc1 vs $rc2" "$(diff "$T/dash.out" "$T/bb.out" | head -n 20)"
	fi
}

# ---- status -------------------------------------------------------------------
for f in "$ROOT"/tests/data/proc-*.txt; do
	name=${f#"$ROOT"/}
	if ! sh "$TOOL" status -i "$f" >"$T/st" 2>"$T/err"; then
		tap_fail "$name: status runs" "$(cat "$T/err")"
		continue
	fi
	tap_ok "$name: status runs"
	# Every non-zero counter with its value, every probe in the sum, every row.
	# (alerts|failed)-(printed|suppressed) are in the alerts lines.
	miss=$(awk '/^counter: / && $3 != 0 && $2 !~ /^(alerts|failed)-(printed|suppressed)$/ {
			n = $2; sub(/^cause-/, "", n); print n " " $3 }' "$f" |
		while read -r n v; do grep -qE "^  $n +$v\$" "$T/st" || echo "counter $n $v"; done)
	for k in alerts failed; do
		p=$(sed -n "s/^counter: $k-printed //p" "$f")
		s=$(sed -n "s/^counter: $k-suppressed //p" "$f")
		[ -z "$p" ] || grep -qE "^[a-z -]*alerts: *$p printed, ${s:-0} suppressed" "$T/st" || miss="$miss $k-printed/suppressed"
	done
	tap_check "$name: status lists every non-zero counter" test -z "$miss"
	np=$(grep -c '^probe: ' "$f")
	tap_check "$name: status counts $np probes" grep -q "^probes: *$np attached" "$T/st"
	nd=$(grep -c -E '^(failed|eaddrnotavail)-dest: ' "$f")
	nl=$(sed -n '/^busiest failing destinations:/,/^$/p' "$T/st" | grep -c '^  ' || true)
	tap_check "$name: status shows all $nd destinations" test "$nd" = "$nl"
	ns=$(grep -c '^sock: ' "$f")
	tap_check "$name: status shows $ns socket rows" grep -q "^sockets tracked with events ($ns):" "$T/st"
	g=$(sed -n 's/^guard: //p' "$f")
	tap_check "$name: guard $g explained" grep -q "^guard: *$g: " "$T/st"
	sh "$TOOL" status --json -i "$f" >"$T/st.json"
	if [ -n "$PY" ]; then
		if out=$("$PY" - "$f" "$T/st.json" <<'EOF' 2>&1
import json, sys
proc = open(sys.argv[1]).read().splitlines()
d = json.load(open(sys.argv[2]))
bad = []
for l in proc:
    w = l.split()
    if l.startswith("counter: "):
        if w[1].startswith("cause-"):
            got = d["connect_failed_causes"].get(w[1][6:])
        else:
            got = d["counters"].get(w[1])
        if got != int(w[2]): bad.append("counter %s: %r" % (w[1], got))
    elif l.startswith("probe: "):
        p = [x for x in d["probes"] if x["name"] == w[1]]
        if not p or "hits=%d" % p[0]["hits"] not in l: bad.append("probe " + w[1])
n = lambda k: sum(1 for l in proc if l.startswith(k))
if len(d["failed_dest"]) != n("failed-dest: "): bad.append("failed_dest rows")
if len(d["eaddrnotavail_dest"]) != n("eaddrnotavail-dest: "): bad.append("eaddrnotavail_dest rows")
if len(d["sockets"]) != n("sock: "): bad.append("sockets")
for k in ("version", "kernel", "guard"):
    if d[k] != [l.split(None, 1)[1] for l in proc if l.startswith(k + ": ")][0]: bad.append(k)
for r in d["failed_dest"]:
    if not r.get("cgroup", "").startswith("/"): bad.append("cgroup of " + r["dst"])
print("\n".join(bad)); sys.exit(1 if bad else 0)
EOF
		); then
			tap_ok "$name: status --json holds every counter, probe, destination and row"
		else
			tap_fail "$name: status --json holds every counter, probe, destination and row" "$out"
		fi
	else
		tap_skip "$name: status --json content" "no python3"
	fi
	same_under_busybox "$name: status" status -i "$f"
	same_under_busybox "$name: status --json" status --json -i "$f"
done
# A comm or cgroup with a space stays one value.
f=$ROOT/tests/data/proc-sample-connect-failed.txt
tap_check "status: comm and cgroup with spaces" grep -q 'comm=my worker cgroup=/system.slice/my app.service$' \
	<(sh "$TOOL" status -i "$f")

# ---- watch --------------------------------------------------------------------
for f in "$ROOT"/tests/data/kmsg-*.txt; do
	name=${f#"$ROOT"/}
	n=$(grep -c -E '^[0-9]+,[^;]*;tcpconndiag: [a-z-]+ .*hint="' "$f")
	sh "$TOOL" watch -i "$f" >"$T/w" 2>"$T/err" || true
	tap_check "$name: watch prints one line per alert ($n)" test "$(wc -l <"$T/w")" = "$n"
	bad=$(grep -v -E '^\[ *[0-9]+\.[0-9]{6}\] [a-z-]+( \([a-z()-]+\))?: .* -> .* -- ' "$T/w" || true)
	tap_check "$name: watch lines: time, event (cause): who src -> dst ... -- hint" test -z "$bad"
	sh "$TOOL" watch --json -i "$f" >"$T/w.json"
	tap_check "$name: watch --json: one valid object per alert" sh -c '[ "$(wc -l <"$1")" = "$2" ]' - "$T/w.json" "$n"
	tap_check "$name: watch --json is JSON" json_ok "$T/w.json" lines
	# The same stream as dmesg prints it gives the same alerts.
	awk -F';' '/^[0-9]+,/ { split($1, h, ","); printf "[%5d.%06d] %s\n", h[3] / 1000000, h[3] % 1000000, substr($0, length($1) + 2) }' "$f" >"$T/dmesg"
	sh "$TOOL" watch -i - <"$T/dmesg" >"$T/w2"
	tap_check "$name: dmesg-format input, same lines" cmp "$T/w" "$T/w2"
	same_under_busybox "$name: watch" watch -i "$f"
	same_under_busybox "$name: watch --json" watch --json -i "$f"
done
f=$ROOT/tests/data/kmsg-sample-connect-failed.txt
sh "$TOOL" watch -i "$f" >"$T/w"
tap_check "watch: connect-failed shows cause, caller, ids, route" grep -qF \
	'connect-failed (no-synack): my worker[201/200] uid=33 cgroup=/system.slice/my app.service 10.0.0.1:51000 -> 10.0.0.2:443 ETIMEDOUT blocking syns=7' "$T/w"
tap_check "watch: unknown caller (pid=?) said so" grep -qF 'connect-failed (no-listener): (caller unknown) uid=1000' "$T/w"
tap_check "watch: IPv6 [addr]:port kept" grep -qF '[::1]:40013 -> [::1]:5000' "$T/w"
tap_check "watch: continuation lines and other messages ignored" sh -c '! grep -qE "SUBSYSTEM|virtio|loaded|gate-mark" "$1"' - "$T/w"
if [ -n "$PY" ]; then
	sh "$TOOL" watch --json -i "$f" >"$T/w.json"
	tap_check "watch --json: keys, numbers, quoted hint" "$PY" -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
a = o[0]
assert a["event"] == "connect-failed" and a["pid"] == 150 and a["uid"] == 0 and a["cgroup"] == "/", a
assert a["hint"].startswith("nothing listens on 127.0.0.1:5000 (the peer"), a["hint"]
assert a["ts"] == 3.301234, a["ts"]
assert o[1]["pid"] == "?" and o[1]["suppressed"] == 3, o[1]
assert o[2]["comm"] == "my worker" and o[2]["cgroup"] == "/system.slice/my app.service", o[2]
assert o[4]["accept_queue"] == "129/128", o[4]
' "$T/w.json"
fi

# ---- gate ---------------------------------------------------------------------
# gate_rc WANT DESC ARGS...: exit status WANT, output left in $T/g.
gate_rc() {
	local want=$1 desc=$2 rc=0
	shift 2
	sh "$TOOL" gate check "$@" >"$T/g" 2>&1 || rc=$?
	if [ "$rc" = "$want" ]; then tap_ok "$desc"; else tap_fail "$desc" "exit $rc, want $want" "$(cat "$T/g")"; fi
}
gate_rc 1 "gate: mission alerts fail (exit 1)" -i "$f"
tap_check "gate: counts the 3 diagnoses" grep -qx 'tcpconndiag gate: 3 tcpconndiag alert(s):' "$T/g"
tap_check "gate: summary per event" sh -c 'grep -qx "  eaddrnotavail: 1" "$1" && grep -qx "  saddr-lost: 1" "$1" && grep -qx "  stall-ended: 1" "$1"' - "$T/g"
tap_check "gate: connect-failed summarized by cause" sh -c 'grep -q "^tcpconndiag gate: 5 connect() failure(s) explained" "$1" && grep -qx "  no-listener: 2" "$1" && grep -qx "  listener-backlog-full: 1" "$1"' - "$T/g"
gate_rc 0 "gate: --allow the diagnoses: exit 0 despite connect-failed" --allow eaddrnotavail,saddr-lost,stall-ended -i "$f"
tap_check "gate: says no alerts, still lists the causes" sh -c 'grep -qx "tcpconndiag gate: no tcpconndiag alerts" "$1" && grep -qx "  no-synack: 1" "$1"' - "$T/g"
gate_rc 1 "gate: --strict fails on connect-failed" --strict --allow eaddrnotavail,saddr-lost,stall-ended -i "$f"
tap_check "gate: --strict counts each cause" grep -qx '  connect-failed(no-listener): 2' "$T/g"
gate_rc 0 "gate: --strict --allow connect-failed:CAUSE,... exit 0" --strict \
	--allow eaddrnotavail,saddr-lost,stall-ended,connect-failed:no-listener,connect-failed:no-synack,connect-failed:icmp-unreachable,connect-failed:listener-backlog-full -i "$f"
gate_rc 0 "gate: --strict --allow connect-failed: exit 0" --strict --allow=eaddrnotavail,saddr-lost,stall-ended,connect-failed -i "$f"
# Only what follows the mark counts.
awk '/tcpconndiag: eaddrnotavail /{ print "6,9999,4800000,-;tcpconndiag-gate-mark-host-1" } 1' "$f" >"$T/marked"
echo tcpconndiag-gate-mark-host-1 >"$T/mark"
TCD_GATE_STATE=$T/mark gate_rc 1 "gate: after the mark: 3 alerts, no connect-failed" -i "$T/marked"
tap_check "gate: the connect-failed lines before the mark are not counted" sh -c '! grep -q "connect() failure" "$1"' - "$T/g"
printf '6,1,1,-;booted\n' | TCD_GATE_STATE=$T/no-mark gate_rc 0 "gate: empty log: exit 0" -i -
for d in "$ROOT"/tests/data/kmsg-*.txt; do
	same_under_busybox "${d#"$ROOT"/}: gate check" gate check -i "$d"
done

# ---- errors and exit codes --------------------------------------------------------
rc_is() { # WANT DESC CMD...: exit WANT, a message on stderr, nothing on stdout
	local want=$1 desc=$2 rc=0
	shift 2
	"$@" >"$T/o" 2>"$T/e" || rc=$?
	if [ "$rc" = "$want" ] && [ -s "$T/e" ] && ! [ -s "$T/o" ]; then
		tap_ok "$desc (exit $want: $(head -n 1 "$T/e"))"
	else
		tap_fail "$desc" "exit $rc, want $want" "stdout: $(head -c 300 "$T/o")" "stderr: $(cat "$T/e")"
	fi
}
rc_is 2 "no command: usage" sh "$TOOL"
rc_is 2 "unknown command" sh "$TOOL" frobnicate
rc_is 2 "status: unknown option" sh "$TOOL" status --yaml
rc_is 2 "gate: unknown subcommand" sh "$TOOL" gate open
rc_is 2 "gate check: bad --allow" sh "$TOOL" gate check --allow 'a b'
rc_is 3 "status: module not loaded" env TCPCONNDIAG_PROC="$T/none" sh "$TOOL" status
rc_is 3 "prometheus: module not loaded" env TCPCONNDIAG_PROC="$T/none" sh "$TOOL" prometheus
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/passwd"
rc_is 5 "status: not a tcpconndiag file" sh "$TOOL" status -i "$T/passwd"
sed '1s/.*/version: 1.0.0/' "$ROOT/tests/data/proc-6.1.txt" >"$T/v1"
rc_is 5 "status: a newer format version" sh "$TOOL" status -i "$T/v1"
rc_is 6 "status -i: missing file" sh "$TOOL" status -i "$T/missing"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	install -m 0400 "$ROOT/tests/data/proc-6.1.txt" "$T/proc"
	chmod 755 "$T"
	rc_is 4 "status: not root (file mode 0400)" env TCPCONNDIAG_PROC="$T/proc" \
		setpriv --reuid=65534 --regid=65534 --clear-groups sh "$TOOL" status
	mkdir -m 1777 "$T/pub"
	rc_is 4 "gate mark: not root (/dev/kmsg not writable)" env TCD_GATE_STATE="$T/pub/mark" \
		setpriv --reuid=65534 --regid=65534 --clear-groups sh "$TOOL" gate mark
else
	tap_skip "status: not root" "needs root and setpriv"
fi
v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
tap_check "--version is dkms.conf's $v" test "$(sh "$TOOL" --version)" = "tcpconndiag $v"
tap_done
