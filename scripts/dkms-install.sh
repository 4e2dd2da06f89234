#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-install.sh [KERNELVER]: register this source tree with DKMS under
# /usr/src/tcpconndiag-<version>, then build and install it for KERNELVER
# (default: the running kernel). Needs root, dkms and that kernel's headers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
KVER=${1:-$(uname -r)}
SRC=/usr/src/tcpconndiag-$VERSION

command -v dkms >/dev/null || { echo "dkms-install: install dkms first (apt-get install dkms)" >&2; exit 1; }
# Re-registering the same version replaces the old copy.
if dkms status -m tcpconndiag -v "$VERSION" | grep -q .; then
	dkms remove -m tcpconndiag -v "$VERSION" --all >/dev/null
fi
rm -rf "$SRC"
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' -cf - . | tar -C "$SRC" -xf -
dkms add -m tcpconndiag -v "$VERSION"
dkms build -m tcpconndiag -v "$VERSION" -k "$KVER"
dkms install -m tcpconndiag -v "$VERSION" -k "$KVER"
