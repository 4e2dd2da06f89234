#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-guest.sh VER [TEST...]: boot kernel VER (a name in lab/kernels.conf, or
# a debug kernel of lab/kernels-debug.conf) from the cache in QEMU with a
# busybox initramfs holding the guest tests, and check the result.
#
# A debug kernel (lab/debug-kernel.sh: KASAN, lockdep, kmemleak...) gets
# tests/debug/debug-start.t first, debug-check.t between two tests (reports
# since the last check) and debug-end.t last (rmmod, kmemleak scan, reports
# since the last check), timeouts times TCD_TIMEOUT_SCALE
# (default 4 there, 1 elsewhere), 1024 MB and a 16 MB log buffer; any
# checker report fails the run and is kept in build/logs/VER.reports.
#
# Env: VERBOSE=1 (echo the whole console), GUEST_TIMEOUT (s, default 1500),
# TEST_TIMEOUT (per test, s, default 120), QEMU_SMP (2), QEMU_MEM (1536),
# QEMU_ACCEL (tcg; "tcg,thread=single" for tests marked "# tcd-accel: single"),
# TCD_SELFTEST=fail,crash,hang (add harness self-tests from tests/selftest/),
# MODULE_KO (module to bundle, default build/VER/tcpconndiag.ko),
# MODULE_KO_BEFORE (a second build, bundled as /tcpconndiag-before.ko), TCD_TOOL
# (the command to install at /usr/sbin/tcpconndiag, default tools/tcpconndiag).
# Writes build/logs/VER.log (console) and build/logs/VER.result (counts).
# Exit 0 only if every test passed, the guest reached its end marker and the
# console shows no kernel warning/oops/panic.
set -euo pipefail
# Braces: bash parses the whole script before running it, so editing this
# file while a run is in progress cannot derail that run.
{

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/matrix.sh
. "$ROOT/lab/matrix.sh"
usage() {
	echo "usage: $0 VER [TEST...]   (VER: $(matrix_names | tr '\n' ' '))" >&2
	exit 2
}
[ $# -ge 1 ] || usage
VER=$1
shift
lab_check "$VER" || usage
DEBUG_KERNEL=
is_debug_kernel "$VER" && DEBUG_KERNEL=1
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag
KDIR=$CACHE/kernels/$VER
BUILD=$ROOT/build
# TCD_OUT: a private output dir, so parallel runs do not share logs or initramfs.
OUT=${TCD_OUT:-$BUILD}
LOGDIR=$OUT/logs
LOG=$LOGDIR/$VER.log
INITRD=$OUT/initramfs/$VER.cpio.gz
RESULT=${TCD_RESULT:-$LOGDIR/$VER.result}
# KASAN and lockdep make a debug kernel several times slower under TCG.
SCALE=${TCD_TIMEOUT_SCALE:-${DEBUG_KERNEL:+4}}
SCALE=${SCALE:-1}
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || { echo "$0: TCD_TIMEOUT_SCALE must be a positive number" >&2; exit 2; }
GUEST_TIMEOUT=${GUEST_TIMEOUT:-$((1500 * SCALE))}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
QEMU_MEM=${QEMU_MEM:-${DEBUG_KERNEL:+1024}}
REPORTS=$LOGDIR/$VER.reports
BUSYBOX=${BUSYBOX:-/bin/busybox}
MODULE_KO=${MODULE_KO:-$ROOT/build/$VER/tcpconndiag.ko}
# Kernel messages that mean the run is broken even if every test passed.
BAD_RE=$(sed -n "s/^TCD_KERNEL_BAD_RE='\(.*\)'$/\1/p" "$ROOT/tests/guest/lib.sh")
[ -n "$BAD_RE" ] || { echo "run-guest.sh: no TCD_KERNEL_BAD_RE in tests/guest/lib.sh" >&2; exit 2; }

mkdir -p "$LOGDIR" "$OUT/initramfs"
rm -f "$RESULT"
# Build and boot from private files, published to $LOG and $INITRD only at
# the end, so concurrent runs of one kernel never mix their files.
WORK=$(mktemp -d "$OUT/run-$VER.XXXXXX")
CONSOLE=$WORK/console.log
publish() {
	[ -f "$CONSOLE" ] && mv -f "$CONSOLE" "$LOG"
	[ -f "$WORK/initrd.cpio.gz" ] && mv -f "$WORK/initrd.cpio.gz" "$INITRD"
	rm -rf "$WORK"
}
trap publish EXIT

die() {
	echo "$VER: error: $*" >&2
	exit 2
}

if ! [ -f "$KDIR/vmlinuz" ] || ! [ -f "$KDIR/release" ] || ! [ -d "$KDIR/modules" ]; then
	die "kernel not in $KDIR (run lab/fetch-kernel.sh $VER)"
fi
RELEASE=$(cat "$KDIR/release")
MODDIR=$KDIR/modules

# ---- test list -------------------------------------------------------------
declare -A TFILE=()
for f in "$ROOT"/tests/guest/*.t; do
	[ -e "$f" ] && TFILE[$(basename "$f" .t)]=$f
done
SELFTEST_NAMES=()
if [ -n "${TCD_SELFTEST:-}" ]; then
	for mode in ${TCD_SELFTEST//,/ }; do
		[ "$mode" = 1 ] && mode=fail
		[ -d "$ROOT/tests/selftest/$mode" ] || die "unknown TCD_SELFTEST mode '$mode'"
		for f in "$ROOT/tests/selftest/$mode"/*.t; do
			TFILE[$(basename "$f" .t)]=$f
			SELFTEST_NAMES+=("$(basename "$f" .t)")
		done
	done
fi

TESTS=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		# A path to a .t outside tests/guest/ (e.g. the demo) is taken as is.
		if [[ $t == */* ]] && [ -f "$t" ]; then
			TFILE[$(basename "$t" .t)]=$(realpath "$t")
		fi
		t=$(basename "$t" .t)
		[ -n "${TFILE[$t]:-}" ] || die "no test '$t' in tests/guest/"
		TESTS+=("$t")
	done
	TESTS+=(${SELFTEST_NAMES[@]+"${SELFTEST_NAMES[@]}"})
else
	mapfile -t TESTS < <(printf '%s\n' "${!TFILE[@]}" | sort)
fi
[ ${#TESTS[@]} -gt 0 ] || die "no tests"
if [ -n "$DEBUG_KERNEL" ]; then
	TFILE[debug-start]=$ROOT/tests/debug/debug-start.t
	TFILE[debug-end]=$ROOT/tests/debug/debug-end.t
	TFILE[debug-check]=$ROOT/tests/debug/debug-check.t
	dtests=(debug-start)
	for t in "${TESTS[@]}"; do dtests+=("$t" debug-check); done
	unset 'dtests[-1]'
	TESTS=("${dtests[@]}" debug-end)
fi

# ---- static test programs (built once per host, shared by all kernels) --------
PROGDIR=$BUILD/progs
mkdir -p "$PROGDIR"
for src in "$ROOT"/tests/progs/*.c; do
	[ -e "$src" ] || continue
	bin=$PROGDIR/$(basename "$src" .c)
	stale=
	[ "$src" -nt "$bin" ] && stale=1
	for h in "$ROOT"/tests/progs/*.h; do
		[ -e "$h" ] && [ "$h" -nt "$bin" ] && stale=1
	done
	if [ -n "$stale" ]; then
		# Temp name + mv: a failed or concurrent build never leaves a bad binary.
		gcc -static -O2 -Wall -Werror -pthread -o "$bin.tmp.$$" "$src" ||
			die "compiling $src failed"
		mv -f "$bin.tmp.$$" "$bin"
	fi
done

# ---- initramfs -------------------------------------------------------------
STAGE=$WORK/stage
mkdir "$STAGE"

(
	cd "$STAGE"
	mkdir -p bin sbin usr/bin usr/sbin proc sys dev tmp root etc tests progs \
		"lib/modules/$RELEASE"
	cp "$BUSYBOX" bin/busybox
	"$BUSYBOX" --list-full | while read -r app; do
		[ "$app" = bin/busybox ] || [ -e "$app" ] || ln -s /bin/busybox "$app"
	done
	# The kernel opens /dev/console before /init runs (needs root to mknod).
	mknod -m 600 dev/console c 5 1 2>/dev/null || true
	install -m 755 "$ROOT/tests/guest/init.sh" init
	cp "$ROOT/tests/guest/lib.sh" tests/
	[ -z "$DEBUG_KERNEL" ] || cp "$ROOT/tests/debug/lib-debug.sh" tests/
	for t in "${TESTS[@]}"; do cp "${TFILE[$t]}" "tests/$t.t"; done
	# The shipped command (POSIX sh), where the package installs it.
	install -m 755 "${TCD_TOOL:-$ROOT/tools/tcpconndiag}" usr/sbin/tcpconndiag
	for bin in "$PROGDIR"/*; do
		[ -x "$bin" ] && case $bin in *.tmp.*) ;; *) cp "$bin" progs/ ;; esac
	done
	# A second build for side-by-side benchmarks (lab/bench.sh: "before").
	if [ -n "${MODULE_KO_BEFORE:-}" ] && [ -f "$MODULE_KO_BEFORE" ]; then
		cp "$MODULE_KO_BEFORE" tcpconndiag-before.ko
	fi
	if [ -f "$MODULE_KO" ]; then
		cp "$MODULE_KO" tcpconndiag.ko
	fi
) || die "staging the initramfs failed"
[ -f "$STAGE/tcpconndiag.ko" ] ||
	echo "$VER: note: ${MODULE_KO#"$ROOT"/} missing, module tests will skip/fail" >&2

# Network modules plus their dependencies (read from each .ko's modinfo: the
# cache has no modules.dep), decompressed for busybox insmod. tcd-netmods
# gives load_netmod each module's load order, dependencies first.
STAGE_MODS=$STAGE/lib/modules/$RELEASE
add_ko() { # module name; appends to $order after its dependencies
	local name=$1 src rel dep
	case " $seen " in *" $name "*) return 0 ;; esac
	seen+=" $name"
	src=$(find "$MODDIR" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | sort | head -n 1)
	[ -n "$src" ] || die "module $name not found in $MODDIR"
	rel=${src#"$MODDIR"/}
	rel=${rel%.ko*}.ko
	mkdir -p "$(dirname "$STAGE_MODS/$rel")"
	case $src in
	*.ko) cp "$src" "$STAGE_MODS/$rel" ;;
	*.xz) xz -dc "$src" >"$STAGE_MODS/$rel" ;;
	*.zst) zstd -qdc "$src" >"$STAGE_MODS/$rel" ;;
	*.gz) gzip -dc "$src" >"$STAGE_MODS/$rel" ;;
	*) die "unknown module format: $src" ;;
	esac
	for dep in $(tr '\0' '\n' <"$STAGE_MODS/$rel" | sed -n 's/^depends=//p' | tr , ' '); do
		add_ko "$dep"
	done
	order+=" $rel"
}
for m in dummy veth; do
	seen=
	order=
	add_ko "$m"
	echo "$m:$order" >>"$STAGE_MODS/tcd-netmods"
done

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$WORK/initrd.cpio.gz"

# ---- boot ------------------------------------------------------------------
tests_csv=$(IFS=,; echo "${TESTS[*]}")
APPEND="console=ttyS0 panic=-1 panic_on_warn=1 quiet loglevel=4"
APPEND+=" tcd_tests=$tests_csv tcd_timeout=$TEST_TIMEOUT tcd_timeout_scale=$SCALE"
# 50-reliability's 100 insmod/rmmod cycles outlast its 400 s storm on a
# debug kernel (52 took 912 s, 17.5 s each); 16 fit, the /proc fd read
# across rmmod then happens in cycle 8.
# no5lvl: with -cpu max the guest has LA57, and identify_cpu() at boot
# briefly clears the LA57 bit that KASAN's address range check reads: an
# interrupt in that window was reported as "BUG: KASAN: wild-memory-access
# in do_raw_spin_lock" (handle_edge_irq, RIP in intel_unlock_cpuid_leafs).
# 45-failed's storm of 100 000 refused connects took 90-190 s on the matrix
# and over 1600 s on the debug kernel: 5 000 still spans several alert
# intervals. 80-scale's 10 000 blocked threads need 32 KiB KASAN stacks each:
# 2 000 fit the debug guest's memory and still outnumber maxactive's default.
[ -z "$DEBUG_KERNEL" ] || APPEND+=" log_buf_len=16M no5lvl tcd_env=TCD_REL_CYCLES=${TCD_DEBUG_REL_CYCLES:-16},TCD_FAILED_STORM=${TCD_DEBUG_FAILED_STORM:-5000},TCD_SCALE_BIG=${TCD_DEBUG_SCALE_BIG:-2000}"
APPEND+=" ${TCD_APPEND:-}"

# Live view: everything with VERBOSE=1, else result lines plus the diagnostics
# around each failure (the '#' lines since the previous result, and after it).
filter() {
	if [ "${VERBOSE:-0}" = 1 ]; then
		cat
		return
	fi
	awk -v pfx="$VER: " '
		function flush() { for (i = 0; i < nb; i++) print pfx buf[i]; nb = 0 }
		/^(not )?ok [0-9]+ / {
			after = 0
			if ($1 == "not") { flush(); after = 1 }
			nb = 0
			print pfx $0
			fflush()
			next
		}
		/^# (---- |totals:)/ { nb = 0; after = 0; next }
		/^#/ {
			if (after) { print pfx $0; fflush() }
			else if (nb < 40) buf[nb++] = $0
			next
		}
	'
}

echo "$VER: booting $RELEASE with ${#TESTS[@]} test(s), timeout ${GUEST_TIMEOUT}s${DEBUG_KERNEL:+ (debug kernel, timeouts x$SCALE)}"
start=$SECONDS
# A kernel that dies while booting, before /init printed "KTAP version 1",
# ran nothing of ours (no test, no module): multi-threaded TCG rarely sees
# the kernel's own early text patching incoherently (7.3 once took an int3
# in sched_clock_cpu at 5 s). That boot is kept in VER.boot-crash.log and the
# guest boots once more; a second such crash counts as the run's failure.
for attempt in 1 2; do
	set +e
	timeout -k 5 "$GUEST_TIMEOUT" qemu-system-x86_64 \
		-accel "${QEMU_ACCEL:-tcg}" -cpu max -m "${QEMU_MEM:-1536}" -smp "${QEMU_SMP:-2}" \
		-nographic -no-reboot -nic none \
		-kernel "$KDIR/vmlinuz" -initrd "$WORK/initrd.cpio.gz" -append "$APPEND" \
		${QEMU_EXTRA:-} </dev/null 2>&1 |
		sed -u 's/\r$//; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | tee "$CONSOLE" | filter
	status=("${PIPESTATUS[@]}")
	set -e
	[ "$attempt" = 1 ] && ! grep -a -q '^KTAP version 1' "$CONSOLE" &&
		grep -a -q -E 'Kernel panic|Oops' "$CONSOLE" || break
	cp "$CONSOLE" "$LOGDIR/$VER.boot-crash.log"
	echo "$VER: the kernel crashed while booting, before /init (nothing of ours ran):" \
		"$(grep -a -m 1 -E 'Oops|Kernel panic' "$CONSOLE")" \
		"(${LOGDIR#"$ROOT"/}/$VER.boot-crash.log); booting again"
done
elapsed=$((SECONDS - start))

# ---- verdict ---------------------------------------------------------------
passed=0
failed=0
problems=()
skipped=0
if end=$(grep -a -o 'TCD-END passed=[0-9]* failed=[0-9]* skipped=[0-9]*' "$CONSOLE" | tail -n 1) &&
	[ -n "$end" ]; then
	# The guest's own counters: immune to console lines mangled by printk.
	passed=$(sed 's/.*passed=\([0-9]*\).*/\1/' <<<"$end")
	failed=$(sed 's/.*failed=\([0-9]*\).*/\1/' <<<"$end")
	skipped=$(sed 's/.*skipped=\([0-9]*\)/\1/' <<<"$end")
else
	passed=$(grep -a -E '^ok [0-9]+ ' "$CONSOLE" | grep -a -c -v '# SKIP' || true)
	skipped=$(grep -a -E '^ok [0-9]+ ' "$CONSOLE" | grep -a -c '# SKIP' || true)
	failed=$(grep -a -c -E '^not ok [0-9]+ ' "$CONSOLE" || true)
	if [ "${status[0]}" = 124 ] || [ "${status[0]}" = 137 ]; then
		problems+=("guest timed out after ${GUEST_TIMEOUT}s (no end marker)")
	else
		problems+=("guest stopped without its end marker (crash or reboot; qemu exit ${status[0]})")
	fi
fi
# Kernel lines only: the harness's own KTAP/diag lines may quote such words.
# (A debug kernel's "debug-report: " lines are counted below.)
bad=$(grep -a -E "$BAD_RE" "$CONSOLE" | grep -a -v -E '^(#|ok |not ok |debug-report: )' || true)
if [ -n "$bad" ]; then
	problems+=("kernel reported problems on the console:")
	# The guest's own dump (init.sh) carries each report's headline.
	shown=$(grep -a '^kernel-log: ' "$CONSOLE" || true)
	[ -n "$shown" ] || shown=$bad
fi
# A debug kernel's checker reports (debug-start.t, debug-end.t print them as
# "debug-report: " lines): kept whole in $REPORTS, the first ones in the
# summary. Any one is a failure, even if every test passed.
rm -f "$REPORTS"
if [ -n "$DEBUG_KERNEL" ]; then
	dbg=$(grep -a '^debug-report: ' "$CONSOLE" | sed 's/^debug-report: //' || true)
	if [ -n "$dbg" ]; then
		printf '%s\n' "$dbg" >"$REPORTS"
		problems+=("debug kernel: $(wc -l <<<"$dbg") line(s) of checker reports (${REPORTS#"$ROOT"/}):")
	fi
fi
failed=$((failed + ${#problems[@]}))

if [ ${#problems[@]} -gt 0 ]; then
	for p in "${problems[@]}"; do echo "$VER: FAIL: $p"; done
	[ -n "$bad" ] && sed "s/^/$VER:   /" <<<"$shown" | head -n 60
	[ -n "${dbg:-}" ] && sed "s/^/$VER:   /" <<<"$dbg" | head -n 120
	if [ -z "${end:-}" ] && [ "${VERBOSE:-0}" != 1 ]; then
		echo "$VER: last console lines:"
		tail -n 25 "$CONSOLE" | sed "s/^/$VER:   /"
	fi
fi
if [ $((passed + failed)) -eq 0 ]; then
	echo "$VER: FAIL: no tests ran"
	problems+=("no tests ran")
	failed=1
fi

{
	echo "passed=$passed failed=$failed skipped=$skipped seconds=$elapsed"
	# For run.sh's summary: failures that are no "not ok" line.
	for p in "${problems[@]}"; do echo "problem: $p"; done
	if [ -n "$bad" ]; then head -n 8 <<<"$shown" | sed 's/^/problem:   /'; fi
	if [ -n "${dbg:-}" ]; then head -n 60 <<<"$dbg" | sed 's/^/problem:   /'; fi
} >"$RESULT"
echo "$VER: $passed passed, $failed failed, $skipped skipped (${elapsed}s, log: ${LOG#"$ROOT"/})"
[ "$failed" -eq 0 ]
exit
}
