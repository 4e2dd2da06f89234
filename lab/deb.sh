#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh: build the Debian packages (debian/) with dpkg-buildpackage from a
# clean copy of the tree in build/deb/src (so nothing lands beside the
# repository), leaving build/deb/tcpconndiag{,-dkms}_VERSION_all.deb, then
# run lintian on them; its output goes to build/deb/lintian.txt. Installs
# the build tools when missing (root). Exit 1 on a build failure or a
# lintian error or warning (tags justified in debian/*.lintian-overrides
# do not count).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lab/lib.sh
. "$ROOT/lab/lib.sh"
OUT=$ROOT/build/deb

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
missing=()
for p in dpkg-dev debhelper dh-dkms lintian; do have_pkg "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages (need root to install): ${missing[*]}"
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; }
fi

rm -rf "$OUT"
mkdir -p "$OUT/src"
tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' --exclude=Module.symvers \
	--exclude=modules.order -cf - . | tar -C "$OUT/src" -xf -
log "dpkg-buildpackage in build/deb/src"
(cd "$OUT/src" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 ||
	{ tail -n 40 "$OUT/build.log" >&2; die "dpkg-buildpackage failed (build/deb/build.log)"; }
ls "$OUT"/*.deb
rc=0
lintian --display-info --pedantic "$OUT"/*.changes >"$OUT/lintian.txt" 2>&1 || rc=$?
sed 's/^/lintian: /' "$OUT/lintian.txt"
if grep -q '^[EW]: ' "$OUT/lintian.txt" || [ "$rc" -ne 0 ]; then
	die "lintian reports errors or warnings (exit $rc; build/deb/lintian.txt)"
fi
log "lintian: no errors or warnings ($(grep -c '^[IPX]: ' "$OUT/lintian.txt" || true) info/pedantic tags)"
