#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tcd-dmesg-gate.sh mark | check [--allow EVENT[,EVENT]]
#   mark   write a unique mark into the kernel log (and remember it)
#   check  find tcpconndiag alerts logged since the last mark (or since boot
#          when there is none), print a summary, exit 1 if there are any
#          (2: usage error or unreadable kernel log)
# For CI kernels: "mark" before a test suite, "check" after it.
# POSIX sh, so it also runs under busybox. State: $TCD_GATE_STATE.
set -eu

state=${TCD_GATE_STATE:-/run/tcpconndiag-gate.mark}
events='socket-poisoned|connect-on-poisoned|shutdown-ebusy|sender-epipe|eaddrnotavail|saddr-lost|stall-ended'

case ${1:-} in
mark)
	m="tcpconndiag-gate-mark-$(date +%s)-$$"
	mkdir -p "$(dirname "$state")"
	echo "$m" >"$state"
	echo "$m" >/dev/kmsg
	echo "tcd-dmesg-gate: mark set ($m)"
	exit 0
	;;
check) ;;
*) echo "usage: $0 mark | check [--allow EVENT[,EVENT...]]" >&2; exit 2 ;;
esac

allow=
[ "${2:-}" = --allow ] && allow=$(echo "${3:-}" | tr ',' '|')
# Exit 2, not 1, when the log cannot be read (dmesg_restrict without root).
log=$(dmesg) || { echo "tcd-dmesg-gate: cannot read the kernel log (dmesg failed)" >&2; exit 2; }
if [ -f "$state" ]; then
	m=$(cat "$state")
	if ! printf '%s\n' "$log" | grep -qF "$m"; then
		echo "tcd-dmesg-gate: mark $m is no longer in the kernel log (rotated?); checking it all" >&2
	else
		log=$(printf '%s\n' "$log" | sed -n "/$m/,\$p" | sed 1d)
	fi
fi
alerts=$(printf '%s\n' "$log" | grep -E "tcpconndiag: ($events) " || true)
[ -n "$allow" ] && alerts=$(printf '%s\n' "$alerts" | grep -vE "tcpconndiag: ($allow) " || true)
if [ -z "$alerts" ]; then
	echo "tcd-dmesg-gate: no tcpconndiag alerts"
	exit 0
fi
n=$(printf '%s\n' "$alerts" | wc -l)
echo "tcd-dmesg-gate: $n tcpconndiag alert(s):"
printf '%s\n' "$alerts" | sed -n 's/.*tcpconndiag: \([a-z-]*\) .*/\1/p' | sort | uniq -c |
	while read -r c e; do echo "  $e: $c"; done
echo "first alerts:"
printf '%s\n' "$alerts" | head -n 5 | sed 's/^/  /'
exit 1
