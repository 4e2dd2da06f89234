#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# trixie-chroot.sh [DIR]
#
# Create a Debian trixie chroot (default $CACHE/trixie-root) with gcc-14, make,
# libc6-dev, libelf-dev, dwarves (pahole) and sparse: the toolchain the 6.12
# headers need. Idempotent: a stamp inside DIR marks a finished debootstrap;
# tools missing from a stamped chroot are installed into it (no rebuild, so
# headers extracted there survive). Needs root.
# Env TCD_CHROOT_EXTRA_TOOLS="cmd:package ...": more tools a caller needs
# there (debug-kernel.sh: what building a whole kernel takes); a cmd that
# starts with / is a file in the chroot (for header-only packages).
# The mirror is the one of the host's apt sources (never hard-coded).
set -euo pipefail

# shellcheck source=lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIR="${1:-$CACHE/trixie-root}"
STAMP="$DIR/.tcpconndiag-ready"
# Tools installed with apt inside the chroot: command:package.
TOOLS="pahole:dwarves sparse:sparse ${TCD_CHROOT_EXTRA_TOOLS:-}"

# Mount points at or below DIR, deepest first.
mounts_below() {
	local d
	d="$(realpath -m "$DIR")"
	awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

umount_all() {
	local m
	for m in $(mounts_below); do
		umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"
	done
}

base_ok() {
	[ -f "$STAMP" ] && chroot "$DIR" gcc-14 --version >/dev/null 2>&1 &&
		chroot "$DIR" make --version >/dev/null 2>&1
}

# Print the packages of TOOLS whose command the chroot lacks.
missing_pkgs() {
	local t
	for t in $TOOLS; do
		case "$t" in
		/*) [ -e "$DIR${t%%:*}" ] ;;
		*) chroot "$DIR" sh -c "command -v ${t%%:*}" >/dev/null 2>&1 ;;
		esac || echo "${t#*:}"
	done
}

chroot_ok() {
	base_ok && chroot "$DIR" gcc --version >/dev/null 2>&1 && [ -z "$(missing_pkgs)" ]
}

if [ "$(id -u)" -eq 0 ] && chroot_ok; then
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"

# Suite "trixie" from the host's main Debian URI.
find_mirrors
need_tools debootstrap:debootstrap chroot:coreutils

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9
# Unmount only our own /proc: a build-module.sh build may have its own
# mounted below DIR (under the build lock) while this runs.
OWN_PROC=
trap '[ -z "$OWN_PROC" ] || umount "$DIR/proc" 2>/dev/null || umount -l "$DIR/proc" || true' EXIT

if chroot_ok; then
	exit 0
fi

if ! base_ok; then
	# A leftover without stamp is a failed attempt: start over (never rm through a mount).
	umount_all
	[ -z "$(mounts_below)" ] || die "mounts remain below $DIR; refusing to remove it"
	if [ -e "$DIR" ]; then
		log "removing incomplete $DIR"
		rm -rf --one-file-system "$DIR"
	fi
	log "debootstrap trixie into $DIR from $MIRROR"
	debootstrap --variant=minbase --include=gcc-14,make,libc6-dev,libelf-dev \
		trixie "$DIR" "$MIRROR" >"$DIR.debootstrap.log" 2>&1 ||
		{ tail -n 30 "$DIR.debootstrap.log" >&2; [ -f "$DIR/debootstrap/debootstrap.log" ] &&
			tail -n 30 "$DIR/debootstrap/debootstrap.log" >&2; die "debootstrap failed"; }
	printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
	chmod 755 "$DIR/usr/sbin/policy-rc.d"
	date -u +%FT%TZ >"$STAMP"
fi

mapfile -t pkgs < <(missing_pkgs)
if [ ${#pkgs[@]} -gt 0 ]; then
	# apt inside the chroot: DNS, /proc, fresh lists; unmounted again right
	# after. Under build-module.sh's per-chroot lock: no build runs meanwhile.
	log "installing ${pkgs[*]} in $DIR"
	mkdir -p "$DIR/build"
	exec 8>"$DIR/build/.lock"
	flock 8
	cp -L /etc/resolv.conf "$DIR/etc/resolv.conf" 2>/dev/null || true
	mount -t proc proc "$DIR/proc"
	OWN_PROC=1
	in_chroot() {
		chroot "$DIR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive "$@"
	}
	{ in_chroot apt-get update -q && in_chroot apt-get install -y -q --no-install-recommends "${pkgs[@]}" &&
		in_chroot apt-get clean; } >"$DIR.apt.log" 2>&1 ||
		{ tail -n 30 "$DIR.apt.log" >&2; die "apt-get install ${pkgs[*]} failed in chroot"; }
	umount "$DIR/proc" || umount -l "$DIR/proc"
	OWN_PROC=
	exec 8>&-
fi

# Kbuild and scripts may call plain gcc/cc: point them at gcc-14.
for c in gcc cc; do
	[ -e "$DIR/usr/bin/$c" ] || ln -s gcc-14 "$DIR/usr/bin/$c"
done
mkdir -p "$DIR/build"

chroot_ok || die "toolchain check failed in $DIR"
log "ready: $(chroot "$DIR" gcc-14 --version | head -n1); pahole $(chroot "$DIR" pahole --version)"
