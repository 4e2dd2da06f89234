#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh: the one parser of lab/kernels.conf (the kernel matrix).
# Sourced by the lab's bash scripts for its functions, or run as a command:
#   matrix.sh names                  every kernel name, in file order
#   matrix.sh get NAME FIELD         suites (space-separated), flavour,
#                                    toolchain or why of one kernel
#   matrix.sh check NAME...          exit 1 with a message if one is unknown
#   matrix.sh host-kernel            the cloud kernel of the host's own suite
#                                    (what apt and DKMS on this host build for)
#   matrix.sh debug-names            the debug kernels (lab/kernels-debug.conf)
#   matrix.sh check-lab NAME...      like check, debug kernels allowed
# Env TCD_MATRIX overrides the file (e.g. for a one-off experiment),
# TCD_DEBUG_KERNELS the debug kernels' file.
# The debug kernels (built by debug-kernel.sh, booted by make check-debug) are
# no part of the matrix: names, check and host-kernel never list them; get
# and check-lab know them, for the scripts that build for and boot them.

TCD_MATRIX=${TCD_MATRIX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab/kernels.conf}
TCD_DEBUG_KERNELS=${TCD_DEBUG_KERNELS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab/kernels-debug.conf}

# matrix_rows: one tab-separated line per kernel, "name suites flavour
# toolchain why", suites space-separated, comments and blank lines dropped.
# Malformed rows are fatal here, so no caller works from half a matrix.
matrix_rows() {
	rows_of "$TCD_MATRIX" 0
}

# debug_rows: the same for the debug kernels, whose names are words
# ("debug"): they are built, not fetched, so no release must match them.
debug_rows() {
	rows_of "$TCD_DEBUG_KERNELS" 1
}

# lab_rows: both.
lab_rows() {
	matrix_rows && debug_rows
}

# rows_of FILE WORDNAMES
rows_of() {
	[ -r "$1" ] || { echo "matrix: cannot read $1" >&2; return 1; }
	awk -v f="$1" -v words="$2" '
		function err(m) { printf "matrix: %s:%d: %s\n", f, FNR, m > "/dev/stderr"; bad = 1 }
		{ sub(/#.*/, "") }
		NF == 0 { next }
		NF < 4 { err("want NAME SUITES FLAVOUR TOOLCHAIN [WHY]"); next }
		!words && $1 !~ /^[0-9]+\.[0-9]+[A-Za-z0-9._-]*$/ { err("bad name " $1); next }
		words && $1 !~ /^[a-z][a-z0-9_-]*$/ { err("bad name " $1 " (want a word)"); next }
		seen[$1]++ { err("duplicate name " $1); next }
		$4 != "host" && $4 != "trixie" { err("toolchain " $4 " is not host or trixie"); next }
		{
			# why: the text after the fourth field (no {n} intervals in mawk).
			why = $0
			for (i = 1; i <= 4; i++) { sub(/^[ \t]*[^ \t]+/, "", why) }
			gsub(/^[ \t]+|[ \t]+$/, "", why)
			suites = $2
			gsub(/,/, " ", suites)
			rows[++n] = $1 "\t" suites "\t" $3 "\t" $4 "\t" why
		}
		END {
			if (bad) exit 1
			if (n == 0) { printf "matrix: %s: no kernels\n", f > "/dev/stderr"; exit 1 }
			for (i = 1; i <= n; i++) print rows[i]
		}' "$1"
}

# matrix_names: the kernel names, one per line.
matrix_names() {
	local rows
	rows=$(matrix_rows) || return 1
	cut -f1 <<<"$rows"
}

# matrix_get NAME FIELD: one field of one kernel (fails on an unknown name).
matrix_get() {
	local rows col
	case "$2" in
	suites) col=2 ;;
	flavour) col=3 ;;
	toolchain) col=4 ;;
	why) col=5 ;;
	*) echo "matrix: unknown field '$2'" >&2; return 2 ;;
	esac
	rows=$(lab_rows) || return 1
	awk -F '\t' -v n="$1" -v c="$col" '$1 == n { print $c; found = 1; exit } END { exit !found }' <<<"$rows" ||
		{ echo "matrix: no kernel '$1' in $TCD_MATRIX or $TCD_DEBUG_KERNELS" >&2; return 1; }
}

# debug_names: the debug kernels' names, one per line.
debug_names() {
	local rows
	rows=$(debug_rows) || return 1
	cut -f1 <<<"$rows"
}

# is_debug_kernel NAME: NAME is one of the debug kernels.
is_debug_kernel() {
	debug_names 2>/dev/null | grep -qxF -- "$1"
}

# lab_check NAME...: every NAME is a matrix or a debug kernel.
lab_check() {
	local n
	for n in "$@"; do
		is_debug_kernel "$n" || matrix_check "$n" 2>/dev/null || {
			echo "matrix: unknown kernel '$n' (${TCD_MATRIX##*/}: $(matrix_names | tr '\n' ' ')${TCD_DEBUG_KERNELS##*/}: $(debug_names | tr '\n' ' '))" >&2
			return 1
		}
	done
}

# matrix_check NAME...: every NAME is a matrix kernel.
matrix_check() {
	local n names
	names=" $(matrix_names | tr '\n' ' ')" || return 1
	for n in "$@"; do
		case "$names" in
		*" $n "*) ;;
		*)
			echo "matrix: unknown kernel '$n' (${TCD_MATRIX##*/} has:$names)" >&2
			return 1
			;;
		esac
	done
}

# matrix_host_kernel: the first cloud kernel whose suites include the host's
# release codename (Debian 12: bookworm, so 6.1): the one apt and DKMS on
# this host can install headers for.
matrix_host_kernel() {
	local codename rows
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	rows=$(matrix_rows) || return 1
	awk -F '\t' -v c="$codename" '$3 == "cloud" && index(" " $2 " ", " " c " ") { print $1; found = 1; exit }
		END { exit !found }' <<<"$rows" ||
		{ echo "matrix: no cloud kernel for the host suite '$codename'" >&2; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	shift || true
	case "$cmd" in
	names) matrix_names | tr '\n' ' ' | sed 's/ $/\n/' ;;
	get) [ $# -eq 2 ] || { echo "usage: $0 get NAME FIELD" >&2; exit 2; }
		matrix_get "$1" "$2" ;;
	check) matrix_check "$@" ;;
	host-kernel) matrix_host_kernel ;;
	debug-names) debug_names | tr '\n' ' ' | sed 's/ $/\n/' ;;
	check-lab) lab_check "$@" ;;
	*) echo "usage: $0 names | get NAME FIELD | check NAME... | host-kernel | debug-names | check-lab NAME..." >&2; exit 2 ;;
	esac
fi
