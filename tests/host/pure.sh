#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pure.sh: the module's pure functions (src/pure.c, include/tcd_pure.h)
# compiled on the host against tests/host/shim/ and checked by
# tests/host/pure/pure-test.c: give-up ETA, destination eviction order,
# comm sanitising, endpoint formatting, alert line truncation, the alert
# limiter's window. Then each mutant below, a deliberately broken copy of
# one function, must make the test fail: proof the test can see a break.
set -euo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CFLAGS=(-std=gnu11 -O1 -Wall -Wextra -Werror -Wno-sign-compare -Wno-unused-parameter)

# build OUT SRC_DIR INCLUDE_DIR: the test binary from those sources.
build() {
	gcc "${CFLAGS[@]}" -I"$ROOT/tests/host/shim" -I"$3" -o "$1" "$2/pure.c" \
		"$ROOT/tests/host/shim/shim.c" "$ROOT/tests/host/pure/pure-test.c"
}

if ! command -v gcc >/dev/null; then
	tap_fail "gcc for the host test" "no gcc (make deps installs it)"
	tap_done
	exit
fi
if ! out=$(build "$T/pure" "$ROOT/src" "$ROOT/include" 2>&1); then
	tap_fail "src/pure.c builds against the host shim" "$out"
	tap_done
	exit
fi
rc=0
"$T/pure" >"$T/out" 2>&1 || rc=$?
# Renumbered into this file's sequence: the mutants follow.
while IFS= read -r line; do
	case $line in
	"ok "*) line=${line#ok }; tap_ok "${line#* }" ;;
	"not ok "*) line=${line#not ok }; tap_fail "${line#* }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$T/out"
if [ "$rc" -ne 0 ] && [ "$TAP_FAILED" -eq 0 ]; then
	tap_fail "the pure test exits 0" "exit $rc: $(tail -n 5 "$T/out")"
elif [ "$TAP_N" -eq 0 ]; then
	tap_fail "the pure test reported results" "$(tail -n 5 "$T/out")"
fi

# mutant NAME FILE SED: FILE (src/pure.c or include/tcd_pure.h) broken by SED.
mutant() {
	local d=$T/m-$1
	mkdir -p "$d/src" "$d/include"
	cp "$ROOT/src/pure.c" "$d/src/"
	cp "$ROOT/include/tcd_pure.h" "$d/include/"
	sed -i "$3" "$d/$2"
	if cmp -s "$d/$2" "$ROOT/$2"; then
		tap_fail "mutant $1: the edit applies to $2 (source changed? update the mutant)"
	elif ! out=$(build "$d/t" "$d/src" "$d/include" 2>&1); then
		tap_fail "mutant $1 builds" "$out"
	elif "$d/t" >"$d/out" 2>&1; then
		tap_fail "mutant $1 is caught" "the test passed with: $3 on $2"
	else
		tap_ok "mutant $1 is caught ($(grep -c '^not ok' "$d/out") checks fail)"
	fi
}
mutant line-off-by-one src/pure.c 's/if (n >= room) {/if (n > room) {/'
mutant limit-burst-plus-one src/pure.c 's/ok = l->printed < burst;/ok = l->printed <= burst;/'
mutant limit-window-inclusive src/pure.c 's/time_after(now, l->window_start + interval)/!time_after(l->window_start + interval, now)/'
mutant giveup-linear src/pure.c 's/if (i >= linear)/if (i > linear)/'
mutant sanitize-keeps-equals src/pure.c "s/t->comm\[i\] == '=')/t->comm[i] == 1)/"
mutant ep-no-brackets src/pure.c 's/"\[%pI6c\]:%u"/"%pI6c:%u"/'
mutant evict-newest-first include/tcd_pure.h 's/last_ns < vlast_ns/last_ns > vlast_ns/'
tap_done
