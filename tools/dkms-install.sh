#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-install.sh [KERNELVER]: register this source tree with DKMS under
# /usr/src/tcpconndiag-<version>, then build and install it for KERNELVER
# (default: the running kernel). Needs root, dkms and that kernel's headers.
# Idempotent: an unchanged tree stays registered and is rebuilt (--force) for
# KERNELVER; a changed tree replaces the old copy and is reinstalled for every
# kernel that had the old one (and still has headers). Never loads the module.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
KVER=${1:-$(uname -r)}
SRC=/usr/src/tcpconndiag-$VERSION
M=(-m tcpconndiag -v "$VERSION")

command -v dkms >/dev/null || { echo "dkms-install: install dkms first (apt-get install dkms)" >&2; exit 1; }
[ -n "$VERSION" ] || { echo "dkms-install: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
[ -e "/lib/modules/$KVER/build" ] ||
	{ echo "dkms-install: no headers for $KVER (apt-get install linux-headers-$KVER)" >&2; exit 1; }

# Stage a clean copy of the tree (no VCS data, no build outputs).
NEW=$(mktemp -d "$SRC.new.XXXXXX")
trap 'rm -rf "$NEW"' EXIT
tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' --exclude=Module.symvers \
	--exclude=modules.order -cf - . | tar -C "$NEW" -xf -
chmod 755 "$NEW"

kernels=("$KVER")
status=$(dkms status "${M[@]}")
if [ -d "$SRC" ] && [ -n "$status" ] && diff -r -q "$SRC" "$NEW" >/dev/null; then
	echo "dkms-install: $SRC is up to date"
else
	# Replacing the source: rebuild for every kernel the old copy was installed on.
	while read -r k; do
		if [ "$k" != "$KVER" ] && [ -e "/lib/modules/$k/build" ]; then kernels+=("$k"); fi
	done < <(sed -n 's/^[^,]*, \([^,]*\), [^:]*: installed.*/\1/p' <<<"$status")
	if [ -n "$status" ]; then dkms remove "${M[@]}" --all >/dev/null; fi
	rm -rf "$SRC"
	mv "$NEW" "$SRC"
	dkms add "${M[@]}"
fi
for k in "${kernels[@]}"; do
	dkms build "${M[@]}" -k "$k" --force
	dkms install "${M[@]}" -k "$k" --force
done
