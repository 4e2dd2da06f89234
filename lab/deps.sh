#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install the host packages the lab needs (Debian 12, as root).
# Quiet and quick when everything is already there.
set -euo pipefail

pkgs=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in qemu-system-x86 busybox-static cpio debootstrap gcc make libc6-dev libelf-dev \
	sparse xz-utils kmod zstd; do
	have "$p" || pkgs+=("$p")
done
[ ${#pkgs[@]} -eq 0 ] && exit 0
[ "$(id -u)" -eq 0 ] || { echo "deps: need root to install: ${pkgs[*]}" >&2; exit 1; }
echo "deps: installing ${pkgs[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
