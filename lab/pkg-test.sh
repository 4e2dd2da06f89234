#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg-test.sh [--result FILE]: the Debian package path on a Debian 12 host, as
# root. Builds the packages (lab/deb.sh: dpkg-buildpackage + lintian), then
# with apt-get installs the headers of the matrix's cloud kernel of the
# host's suite (6.1 on Debian 12) and ./tcpconndiag-dkms_*.deb +
# ./tcpconndiag_*.deb; checks that DKMS built and installed the module for
# that kernel; boots that guest with the module the package built and the
# command the package installed (tests/pkg/dkms-load.t, tests/guest/70-gate.t
# and 75-tool.t: real diagnoses); then removes and purges both packages and
# checks that nothing is left. Prints KTAP-style lines, then "pkg: N passed,
# N failed"; --result FILE also writes "passed=N failed=N seconds=S" (for
# tests/run.sh). Env: TCD_OUT (guest logs, default build/pkg).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
OUTDIR=$ROOT/build/pkg
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
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n pkg: $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n pkg: $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | tail -n 30 | sed 's/^/# /'
}
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d" "failed: $*"; fi; }
finish() {
	finished=1
	echo "pkg: $passed passed, $failed failed ($((SECONDS - start))s)"
	[ -z "$RESULT_FILE" ] ||
		echo "passed=$passed failed=$failed seconds=$((SECONDS - start))" >"$RESULT_FILE"
	if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then echo "pkg: PASS"; exit 0; fi
	echo "pkg: FAIL"
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
LOG=$OUTDIR/pkg.log
: >"$LOG"
apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@" >>"$LOG" 2>&1
}

# 1. Build: dpkg-buildpackage, lintian (errors and warnings fail).
if "$ROOT/lab/deb.sh" >>"$LOG" 2>&1; then
	ok "make deb: packages built, lintian: no errors or warnings"
else
	notok "make deb (dpkg-buildpackage + lintian)" "$(tail -n 30 "$LOG")"
	finish
fi
sed -n 's/^lintian: \([EWIPX]: \)/# lintian \1/p' "$LOG"
DKMS_DEB=$(ls "$ROOT"/build/deb/tcpconndiag-dkms_"$VERSION"_all.deb)
CMD_DEB=$(ls "$ROOT"/build/deb/tcpconndiag_"$VERSION"_all.deb)

# A tree registered by tools/dkms-install.sh (not by a package) would clash.
if ! dpkg-query -S "/usr/src/tcpconndiag-$VERSION" >/dev/null 2>&1 &&
	[ -n "$(dkms status -m tcpconndiag 2>/dev/null)" ]; then
	echo "# removing a DKMS registration made from a source tree"
	dkms remove -m tcpconndiag -v "$VERSION" --all >>"$LOG" 2>&1 || true
	rm -rf "/usr/src/tcpconndiag-$VERSION"
fi

# 2. Install with apt-get: headers first, then the local .debs (apt pulls dkms).
install_all() { apt install "linux-headers-$KVER" && apt install "$DKMS_DEB" "$CMD_DEB"; }
t0=$SECONDS
if install_all || { apt-get update -q >>"$LOG" 2>&1 && install_all; }; then
	ok "apt-get install linux-headers-$KVER ./${DKMS_DEB##*/} ./${CMD_DEB##*/} ($((SECONDS - t0))s)"
else
	notok "apt-get install of the packages" "$(tail -n 30 "$LOG")" \
		"$(tail -n 30 /var/lib/dkms/tcpconndiag/"$VERSION"/build/make.log 2>/dev/null)"
	finish
fi
status=$(dkms status -m tcpconndiag -v "$VERSION" -k "$KVER" 2>&1)
if grep -q ": installed" <<<"$status"; then ok "dkms status: installed for $KVER"; else notok "dkms status: installed for $KVER" "$status"; fi
check "/usr/sbin/tcpconndiag from the package" test "$(dpkg-query -S /usr/sbin/tcpconndiag)" = "tcpconndiag: /usr/sbin/tcpconndiag"
check "man page installed" test -f /usr/share/man/man8/tcpconndiag.8.gz
check "modules-load.d example all commented" sh -c '! grep -v "^#" /etc/modules-load.d/tcpconndiag.conf | grep -q .'
check "modprobe.d example all commented" sh -c '! grep -v "^#" /etc/modprobe.d/tcpconndiag.conf | grep -q .'

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
	ok "module the package built: ${ko:-?}"
else
	notok "module installed under /lib/modules/$KVER/updates/dkms" "$(ls -lR "/lib/modules/$KVER" 2>&1)"
fi
vm=$(modinfo -F vermagic "$OUTDIR/tcpconndiag.ko" 2>/dev/null || true)
v=$(modinfo -F version "$OUTDIR/tcpconndiag.ko" 2>/dev/null || true)
if [ "${vm%% *}" = "$KVER" ] && [ "$v" = "$VERSION" ]; then
	ok "vermagic $KVER, version $VERSION"
else
	notok "vermagic $KVER, version $VERSION" "vermagic: $vm" "version: $v"
fi

# 4. The guest: that module, the command as installed, real diagnoses.
if [ -s "$OUTDIR/tcpconndiag.ko" ]; then
	res=$(mktemp)
	rc=0
	MODULE_KO=$OUTDIR/tcpconndiag.ko TCD_TOOL=/usr/sbin/tcpconndiag TCD_OUT=${TCD_OUT:-$OUTDIR} TCD_RESULT=$res \
		TCD_APPEND="${TCD_APPEND:-} tcd_env=TCD_EXPECT_VERSION=$VERSION" \
		"$ROOT/tests/run-guest.sh" "$KNAME" "$ROOT/tests/pkg/dkms-load.t" 70-gate 75-tool || rc=$?
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
fi

# 5. Remove, then purge: DKMS forgets the module, nothing is left behind.
if apt remove tcpconndiag-dkms tcpconndiag; then ok "apt-get remove"; else notok "apt-get remove" "$(tail -n 20 "$LOG")"; fi
check "after remove: dkms knows no tcpconndiag" test -z "$(dkms status -m tcpconndiag 2>/dev/null)"
check "after remove: no module under /lib/modules/$KVER" sh -c '! find "/lib/modules/$1" -name "tcpconndiag.ko*" | grep -q .' - "$KVER"
check "after remove: /usr/src/tcpconndiag-$VERSION gone" test ! -e "/usr/src/tcpconndiag-$VERSION"
check "after remove: conffiles kept" test -f /etc/modprobe.d/tcpconndiag.conf
if apt purge tcpconndiag-dkms tcpconndiag; then ok "apt-get purge"; else notok "apt-get purge" "$(tail -n 20 "$LOG")"; fi
check "after purge: no package state left" sh -c '! dpkg -l tcpconndiag tcpconndiag-dkms 2>/dev/null | grep -q "^[a-z][a-z] "'
check "after purge: no /etc files left" sh -c '! ls /etc/modprobe.d/tcpconndiag.conf /etc/modules-load.d/tcpconndiag.conf /var/lib/dkms/tcpconndiag 2>/dev/null | grep -q .'
finish
