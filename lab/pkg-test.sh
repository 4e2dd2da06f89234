#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh [--result FILE]: the real DKMS path on a Debian 12 host, as root.
# Installs dkms and the host suite's headers package of the matching guest
# kernel (the matrix's cloud kernel of the host's suite: 6.1 on Debian 12)
# with apt-get, builds and installs the module through tools/dkms-install.sh,
# copies the .ko DKMS installed to build/dkms/tcpconndiag.ko and boots that
# guest with tests/pkg/dkms-load.t on it. Prints KTAP-style lines, then
# "dkms: N passed, N failed"; exit 0 only if all passed. --result FILE also
# writes "passed=N failed=N seconds=S" there (for tests/run.sh).
# Idempotent; removes nothing but its own earlier outputs. Env: TCD_OUT (guest
# logs, default build/dkms).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
OUTDIR=$ROOT/build/dkms
RESULT_FILE=
[ "${1:-}" = --result ] && RESULT_FILE=${2:?--result needs a file}
# shellcheck source=lab/matrix.sh
. "$ROOT/lab/matrix.sh"
# Only the host's own suite has its headers in the host's apt sources.
KNAME=$(matrix_host_kernel || true)

n=0
passed=0
failed=0
start=$SECONDS
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n dkms: $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n dkms: $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | tail -n 30 | sed 's/^/# /'
}
finish() {
	finished=1
	echo "dkms: $passed passed, $failed failed ($((SECONDS - start))s)"
	[ -z "$RESULT_FILE" ] ||
		echo "passed=$passed failed=$failed seconds=$((SECONDS - start))" >"$RESULT_FILE"
	if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then echo "dkms: PASS"; exit 0; fi
	echo "dkms: FAIL"
	exit 1
}
finished=0
trap 'rc=$?; [ $finished = 1 ] || { notok "script error (exit $rc)"; finish; }' EXIT

[ "$(id -u)" -eq 0 ] || { notok "needs root"; finish; }
[ -n "$KNAME" ] || { notok "a matrix kernel of the host's suite (lab/kernels.conf)"; finish; }
if ! [ -s "$CACHE/kernels/$KNAME/release" ]; then
	"$ROOT/lab/fetch-kernel.sh" "$KNAME" >/dev/null 2>&1 || { notok "fetch the $KNAME kernel"; finish; }
fi
KVER=$(cat "$CACHE/kernels/$KNAME/release")
mkdir -p "$OUTDIR"
LOG=$OUTDIR/dkms.log
: >"$LOG"

# 1. The normal way: apt-get (its lists are refreshed only when needed).
# Recommends would add linux-headers-amd64 (another flavour) and sudo.
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 dkms "linux-headers-$KVER" >>"$LOG" 2>&1
}
if apt_install || { apt-get update -q >>"$LOG" 2>&1 && apt_install; }; then
	ok "apt-get install dkms linux-headers-$KVER"
else
	notok "apt-get install dkms linux-headers-$KVER" "$(tail -n 20 "$LOG")"
	finish
fi
dpkg-query -W -f='${Package} ${Version}\n' dkms "linux-headers-$KVER" \
	"linux-headers-${KVER%-cloud-amd64}-common" 'linux-kbuild-*' 2>/dev/null | sed 's/^/# /'

# 2. dkms add/build/install (no module loading: this host has no module support).
t0=$SECONDS
if "$ROOT/tools/dkms-install.sh" "$KVER" >>"$LOG" 2>&1; then
	ok "dkms add/build/install for $KVER ($((SECONDS - t0))s)"
else
	notok "dkms add/build/install for $KVER" "$(tail -n 30 "$LOG")" \
		"$(tail -n 30 /var/lib/dkms/tcpconndiag/"$VERSION"/build/make.log 2>/dev/null)"
	finish
fi
status=$(dkms status -m tcpconndiag -v "$VERSION" -k "$KVER" 2>&1)
if grep -q ": installed" <<<"$status"; then ok "dkms status: installed"; else notok "dkms status: installed" "$status"; fi

# 3. The module DKMS installed (maybe compressed, per dkms' framework.conf).
ko=$(find "/lib/modules/$KVER/updates/dkms" -name 'tcpconndiag.ko*' 2>/dev/null | head -n 1 || true)
rm -f "$OUTDIR/tcpconndiag.ko"
case $ko in
*.ko) cp "$ko" "$OUTDIR/tcpconndiag.ko" ;;
*.ko.xz) xz -dc "$ko" >"$OUTDIR/tcpconndiag.ko" ;;
*.ko.zst) zstd -qdc "$ko" >"$OUTDIR/tcpconndiag.ko" ;;
*.ko.gz) gzip -dc "$ko" >"$OUTDIR/tcpconndiag.ko" ;;
esac
if [ -s "$OUTDIR/tcpconndiag.ko" ]; then
	ok "installed ${ko:-?} copied to build/dkms/tcpconndiag.ko"
else
	notok "module installed under /lib/modules/$KVER/updates/dkms" "$(ls -lR "/lib/modules/$KVER" 2>&1)"
	finish
fi
vm=$(modinfo -F vermagic "$OUTDIR/tcpconndiag.ko")
v=$(modinfo -F version "$OUTDIR/tcpconndiag.ko")
if [ "${vm%% *}" = "$KVER" ] && [ "$v" = "$VERSION" ]; then
	ok "vermagic $KVER, version $VERSION"
else
	notok "vermagic $KVER, version $VERSION" "vermagic: $vm" "version: $v"
fi

# 4. It loads in the guest.
res=$(mktemp)
rc=0
MODULE_KO=$OUTDIR/tcpconndiag.ko TCD_OUT=${TCD_OUT:-$OUTDIR} TCD_RESULT=$res \
	TCD_APPEND="${TCD_APPEND:-} tcd_env=TCD_EXPECT_VERSION=$VERSION" \
	"$ROOT/tests/run-guest.sh" "$KNAME" "$ROOT/tests/pkg/dkms-load.t" || rc=$?
gp=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' "$res" 2>/dev/null || true)
gf=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$res" 2>/dev/null || true)
rm -f "$res"
if [ -n "$gp" ] && [ -n "$gf" ]; then
	[ "$rc" -ne 0 ] && [ "$gf" -eq 0 ] && gf=1
	passed=$((passed + gp))
	failed=$((failed + gf))
	echo "# $KNAME guest: $gp passed, $gf failed"
else
	notok "$KNAME guest run (exit $rc)"
fi
finish
