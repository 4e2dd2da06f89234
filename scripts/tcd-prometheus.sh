#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tcd-prometheus.sh [-i FILE] [-o OUT.prom]: turn /proc/tcpconndiag into the
# node_exporter textfile-collector format. With -o the file is replaced
# atomically (written beside it, then renamed), as the collector requires.
# POSIX sh + awk, so it also runs under busybox.
set -eu

in=/proc/tcpconndiag
out=
while getopts i:o: opt; do
	case $opt in
	i) in=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-i FILE] [-o OUT.prom]" >&2; exit 2 ;;
	esac
done

convert() {
	awk '
	# Each metric family must be one contiguous group: collect, print at END.
	# Label values: escape \ and " (a loop: gsub replacement escapes differ between awks).
	function esc(s,   o, i, c) {
		o = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			o = o ((c == "\\" || c == "\"") ? "\\" c : c)
		}
		return o
	}
	function kv(s, key,   n, i, a) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++)
			if (index(a[i], key "=") == 1)
				return substr(a[i], length(key) + 2)
		return ""
	}
	function add(name, type, text, sample) {
		if (!(name in body)) {
			order[++nf] = name
			head[name] = sprintf("# HELP %s %s\n# TYPE %s %s\n", name, text, name, type)
		}
		body[name] = body[name] sample "\n"
	}
	/^version: / { version = $2 }
	/^kernel: / { kernel = $2 }
	/^guard: / { guard = $2 }
	/^probe: / {
		p = esc($2)
		add("tcpconndiag_probe_hits_total", "counter", "Times the probed function was entered.",
		    sprintf("tcpconndiag_probe_hits_total{probe=\"%s\"} %s", p, kv($0, "hits")))
		add("tcpconndiag_probe_missed_total", "counter", "Probe hits or returns the kernel could not track (nmissed).",
		    sprintf("tcpconndiag_probe_missed_total{probe=\"%s\"} %s", p, kv($0, "nmissed")))
	}
	/^counter: / {
		add("tcpconndiag_events_total", "counter", "Diagnosed events and connect() failures by kind.",
		    sprintf("tcpconndiag_events_total{event=\"%s\"} %s", esc($2), $3))
	}
	/^eaddrnotavail-dest: / {
		add("tcpconndiag_eaddrnotavail_dest_total", "counter", "EADDRNOTAVAIL failures per destination (busiest destinations only).",
		    sprintf("tcpconndiag_eaddrnotavail_dest_total{dst=\"%s\"} %s", esc(kv($0, "dst")), kv($0, "count")))
	}
	/^table: / {
		add("tcpconndiag_table_used", "gauge", "Sockets currently tracked.",
		    "tcpconndiag_table_used " kv($0, "used"))
		add("tcpconndiag_table_capacity", "gauge", "Sockets that can be tracked at once.",
		    "tcpconndiag_table_capacity " kv($0, "capacity"))
		add("tcpconndiag_table_evictions_total", "counter", "Tracked sockets evicted because the table was full.",
		    "tcpconndiag_table_evictions_total " kv($0, "evictions"))
		# Absent from files written before 0.3.0.
		if (kv($0, "stale") != "")
			add("tcpconndiag_table_stale_total", "counter", "Rows of freed sockets dropped when a new socket reused the address (destruct hit missed).",
			    "tcpconndiag_table_stale_total " kv($0, "stale"))
	}
	END {
		if (version == "") {
			print "tcd-prometheus: no version line: not a tcpconndiag file" > "/dev/stderr"
			exit 1
		}
		add("tcpconndiag_info", "gauge", "Module version, kernel release and connect-race guard.",
		    sprintf("tcpconndiag_info{version=\"%s\",kernel=\"%s\",guard=\"%s\"} 1", esc(version), esc(kernel), esc(guard)))
		for (i = 1; i <= nf; i++)
			printf "%s%s", head[order[i]], body[order[i]]
	}' "$1"
}

if [ -z "$out" ]; then
	convert "$in"
	exit 0
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
convert "$in" >"$tmp"
mv -f "$tmp" "$out"
