#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prometheus.sh: "tcpconndiag prometheus" (tools/tcpconndiag) against real
# /proc/tcpconndiag captures (tests/data/proc-*.txt, made by
# tests/pkg/capture-proc.t; proc-6.1-older.txt predates the table stale=
# field; proc-sample-connect-failed.txt is hand-written in issue 12's format
# until it can be captured): valid text exposition
# format, every /proc number exported unchanged, label escaping, atomic -o,
# refusal of other input, same output under busybox.
# Uses promtool (package prometheus) when it is on PATH or in $PROMTOOL.
# shellcheck disable=SC2016 # sh -c scripts take their arguments as $1...
set -euo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

EXP=$ROOT/tools/tcpconndiag
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Exposition-format check of FILE; prints the problems, fails if any.
format_problems() {
	awk '
	function problem(s) { print "line " NR ": " s; bad = 1 }
	/^# HELP / {
		if ($3 in help) problem("second HELP for " $3)
		help[$3] = 1; cur = $3; next
	}
	/^# TYPE / {
		if ($3 in type) problem("second TYPE for " $3)
		if ($3 != cur) problem("TYPE " $3 " not right after its HELP")
		if ($4 != "counter" && $4 != "gauge") problem("type " $4)
		if ($4 == "counter" && $3 !~ /_total$/) problem("counter " $3 " without _total")
		type[$3] = $4; next
	}
	/^#/ { problem("stray comment"); next }
	/^$/ { problem("empty line"); next }
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { problem("bad metric name"); next }
		name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
		if (name != cur) problem(name " outside its family block (HELP/TYPE " cur ")")
		if (!(name in type)) problem(name " has no TYPE")
		if (substr(rest, 1, 1) == "{") {
			# name="value" pairs; values may hold only \\ \" \n escapes.
			lab = "^\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\[\\\\\"n])*\",?)*\\}"
			if (!match(rest, lab)) { problem("bad labels: " rest); next }
			series = name substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
		} else series = name
		if (rest !~ /^ -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) problem("value not numeric: " rest)
		if (series in seen) problem("duplicate series " series)
		seen[series] = 1; n++
	}
	END { if (!n) problem("no samples"); exit bad }' "$1"
}

# The metrics FILE should hold for the /proc capture PROC (one per line).
expected_samples() {
	awk '
	function kv(s, key,   n, i, a) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) if (index(a[i], key "=") == 1) return substr(a[i], length(key) + 2)
	}
	/^version: / { v = $2 } /^kernel: / { k = $2 } /^guard: / { g = $2 }
	/^probe: / {
		printf "tcpconndiag_probe_hits_total{probe=\"%s\"} %s\n", $2, kv($0, "hits")
		printf "tcpconndiag_probe_missed_total{probe=\"%s\"} %s\n", $2, kv($0, "nmissed")
	}
	/^counter: cause-/ { printf "tcpconndiag_connect_failed_total{cause=\"%s\"} %s\n", substr($2, 7), $3; next }
	/^counter: / { printf "tcpconndiag_events_total{event=\"%s\"} %s\n", $2, $3 }
	/^failed-dest: / {
		printf "tcpconndiag_failed_dest_total{dst=\"%s\",cause=\"%s\"} %s\n", kv($0, "dst"), kv($0, "cause"), kv($0, "count")
	}
	/^eaddrnotavail-dest: / {
		printf "tcpconndiag_eaddrnotavail_dest_total{dst=\"%s\"} %s\n", kv($0, "dst"), kv($0, "count")
	}
	/^table: / {
		print "tcpconndiag_table_used " kv($0, "used")
		print "tcpconndiag_table_capacity " kv($0, "capacity")
		print "tcpconndiag_table_evictions_total " kv($0, "evictions")
		if (kv($0, "stale") != "") print "tcpconndiag_table_stale_total " kv($0, "stale")
	}
	END { printf "tcpconndiag_info{version=\"%s\",kernel=\"%s\",guard=\"%s\"} 1\n", v, k, g }' "$1"
}

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
fixtures=("$ROOT"/tests/data/proc-*.txt)
[ -f "${fixtures[0]}" ] || { tap_fail "captured /proc fixtures in tests/data/"; tap_done; exit; }

for f in "${fixtures[@]}"; do
	name=${f#"$ROOT"/}
	if ! sh "$EXP" prometheus -i "$f" >"$T/out.prom" 2>"$T/err"; then
		tap_fail "$name: exporter runs" "$(cat "$T/err")"
		continue
	fi
	tap_ok "$name: exporter runs"
	if p=$(format_problems "$T/out.prom"); then
		tap_ok "$name: exposition format (families contiguous, HELP+TYPE, numeric values)"
	else
		tap_fail "$name: exposition format" "$p"
	fi
	# Every /proc number, exactly once, unchanged; nothing else.
	expected_samples "$f" | sort >"$T/want"
	grep -v '^#' "$T/out.prom" | sort >"$T/have"
	if diff -u "$T/want" "$T/have" >"$T/diff"; then
		tap_ok "$name: $(wc -l <"$T/want") samples equal the /proc numbers"
	else
		tap_fail "$name: samples equal the /proc numbers" "$(cat "$T/diff")"
	fi
	ncounters=$(grep -c '^counter: ' "$f")
	nexported=$(grep -c '^tcpconndiag_\(events\|connect_failed\)_total{' "$T/out.prom")
	tap_check "$name: all $ncounters counter lines exported" test "$ncounters" = "$nexported"
	if [ -n "$PROMTOOL" ]; then
		tap_check "$name: promtool check metrics" sh -c '"$1" check metrics <"$2"' - "$PROMTOOL" "$T/out.prom"
	else
		tap_skip "$name: promtool check metrics" "promtool not installed"
	fi
	# Busybox sh + awk (the guest's tools) give the same bytes.
	if [ -x /bin/busybox ]; then
		mkdir -p "$T/bb"
		for a in sh awk sed mv rm cat id; do ln -sf /bin/busybox "$T/bb/$a"; done
		PATH=$T/bb /bin/busybox sh "$EXP" prometheus -i "$f" >"$T/bb.prom" 2>&1 || true
		tap_check "$name: same output under busybox" cmp "$T/out.prom" "$T/bb.prom"
	else
		tap_skip "$name: same output under busybox" "no /bin/busybox"
	fi
done

# Label escaping: backslash and double quote in label values.
f=${fixtures[0]}
sed -e 's/^probe: tcp_disconnect /probe: we"ird\\name /' \
	-e 's/^kernel: .*/kernel: 6.1"x\\y/' \
	-e '0,/^eaddrnotavail-dest: dst=[^ ]*/s//eaddrnotavail-dest: dst=a\\"b/' "$f" >"$T/esc.txt"
sh "$EXP" prometheus -i "$T/esc.txt" >"$T/esc.prom"
tap_check "escaping: probe label" grep -qF 'tcpconndiag_probe_hits_total{probe="we\"ird\\name"}' "$T/esc.prom"
tap_check "escaping: kernel label" grep -qF 'kernel="6.1\"x\\y"' "$T/esc.prom"
tap_check "escaping: dst label" grep -qF 'tcpconndiag_eaddrnotavail_dest_total{dst="a\\\"b"}' "$T/esc.prom"
if p=$(format_problems "$T/esc.prom"); then tap_ok "escaping: output still valid"; else tap_fail "escaping: output still valid" "$p"; fi
if [ -x "$T/bb/awk" ]; then
	PATH=$T/bb /bin/busybox sh "$EXP" prometheus -i "$T/esc.txt" >"$T/esc-bb.prom" 2>&1 || true
	tap_check "escaping: same output under busybox" cmp "$T/esc.prom" "$T/esc-bb.prom"
fi

# -o: the file is replaced by a rename (a reader never sees it half written).
mkdir "$T/tf"
out=$T/tf/tcpconndiag.prom
echo old >"$out"
ln "$out" "$T/old-link"
sh "$EXP" prometheus -i "$f" -o "$out"
sh "$EXP" prometheus -i "$f" >"$T/stdout.prom"
tap_check "-o: output equals stdout mode" cmp "$out" "$T/stdout.prom"
tap_check "-o: new inode, the old file untouched (rename, not rewrite)" \
	sh -c '[ "$(cat "$1")" = old ] && [ "$(stat -c %i "$1")" != "$(stat -c %i "$2")" ]' - "$T/old-link" "$out"
tap_check "-o: no temporary file left" test "$(ls "$T/tf")" = tcpconndiag.prom
# A failing conversion leaves the previous file as it was.
cp "$out" "$T/prev.prom"
rc=0
sh "$EXP" prometheus -i /dev/null -o "$out" 2>/dev/null || rc=$?
tap_check "-o: bad input fails (exit $rc) and keeps the old file" \
	sh -c '[ "$1" -ne 0 ] && cmp -s "$2" "$3" && [ "$(ls "$4")" = tcpconndiag.prom ]' - "$rc" "$out" "$T/prev.prom" "$T/tf"

# Input that is not /proc/tcpconndiag fails, with nothing on stdout.
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/passwd"
printf 'counter: connect-failed 3\n' >"$T/headless"
for bad in /dev/null "$T/passwd" "$T/headless" "$T/missing"; do
	rc=0
	sh "$EXP" prometheus -i "$bad" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	if [ $rc -ne 0 ] && ! [ -s "$T/bad.out" ] && [ -s "$T/bad.err" ]; then
		tap_ok "rejects ${bad#"$T"/} (exit $rc, message on stderr)"
	else
		tap_fail "rejects ${bad#"$T"/}" "exit $rc" "stdout: $(head -c 300 "$T/bad.out")" "stderr: $(cat "$T/bad.err")"
	fi
done
tap_check "usage error exits 2" sh -c '"$@" -z >/dev/null 2>&1; [ $? -eq 2 ]' - sh "$EXP" prometheus
tap_done
