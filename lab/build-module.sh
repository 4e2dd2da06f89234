#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh VER [SRC_DIR] [OUT_DIR] [-- MAKE_ARGS...]
#
# Build the out-of-tree module in SRC_DIR (default: the repo root) against the
# Debian kernel VER (a name in lab/kernels.conf) fetched by fetch-kernel.sh,
# or the debug kernel VER (lab/kernels-debug.conf) built by debug-kernel.sh,
# with warnings as errors, and copy tcpconndiag.ko to OUT_DIR (default:
# build/VER). The matrix's toolchain column picks the compiler: "host" builds
# with the host gcc (CC=gcc), "trixie" with gcc-14 in the trixie chroot.
# The build runs on a private copy of the source (OUT_DIR/src, or inside the
# chroot, one build at a time there), so builds for different kernels can run
# in parallel. MAKE_ARGS go to make as given, e.g. `-- C=2` to run sparse.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/lib.sh
. "$HERE/lib.sh"
REPO="$(dirname "$HERE")"
MODULE="${MODULE:-tcpconndiag}"

# shellcheck source=lab/matrix.sh
. "$HERE/matrix.sh"
usage() {
	echo "usage: $0 NAME [SRC_DIR] [OUT_DIR] [-- MAKE_ARGS...]  (NAME: $(matrix_names | tr '\n' ' ')$(debug_names | tr '\n' ' '))" >&2
	exit 2
}

POS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--) shift; break ;;
	-h | --help) usage ;;
	*) POS+=("$1"); shift ;;
	esac
done
MAKE_ARGS=("$@")
[ ${#POS[@]} -ge 1 ] && [ ${#POS[@]} -le 3 ] || usage
VER="${POS[0]}"
lab_check "$VER" || usage
TOOLCHAIN="$(matrix_get "$VER" toolchain)"
SRC="$(realpath "${POS[1]:-$REPO}")"
OUT="$(realpath -m "${POS[2]:-$REPO/build/$VER}")"
[ -f "$SRC/Kbuild" ] || [ -f "$SRC/Makefile" ] || die "no Kbuild or Makefile in $SRC"

K="$CACHE/kernels/$VER"
if is_debug_kernel "$VER"; then
	[ -f "$K/.complete" ] && [ -s "$K/kdir" ] ||
		die "debug kernel $VER has not been built (no $K/.complete); run: lab/debug-kernel.sh $VER"
fi
[ -f "$K/.complete" ] && [ -s "$K/kdir" ] ||
	die "kernel $VER has not been fetched (no $K/.complete); run: lab/fetch-kernel.sh $VER"
KDIR="$(cat "$K/kdir")"
REL="$(cat "$K/release")"

# Tools (CI machines start bare).
need=()
command -v make >/dev/null 2>&1 || need+=(make)
if [ "$TOOLCHAIN" = host ]; then
	command -v gcc >/dev/null 2>&1 || need+=(gcc)
	[ -e /usr/include/libelf.h ] || need+=(libelf-dev)
	if printf '%s\n' "${MAKE_ARGS[@]}" | grep -qE '^C=[12]$'; then
		command -v sparse >/dev/null 2>&1 || need+=(sparse)
	fi
fi
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages (need root to install): ${need[*]}"
	log "installing ${need[*]}"
	apt-get update -qq || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Copy the source tree, minus VCS data, build outputs and OUT_DIR itself.
copy_src() {
	local dst="$1" ex=(--exclude=./.git --exclude=./build)
	case "$OUT/" in "$SRC"/*) ex+=("--exclude=./${OUT#"$SRC"/}") ;; esac
	rm -rf "$dst"
	mkdir -p "$dst"
	tar -C "$SRC" "${ex[@]}" --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude=Module.symvers \
		--exclude=modules.order -cf - . | tar -C "$dst" -xf -
}

JOBS="-j$(nproc)"
mkdir -p "$OUT"
if [ "$TOOLCHAIN" != host ]; then
	ROOT="$(cat "$K/chroot")"
	[ -f "$ROOT$KDIR/Makefile" ] || die "$KDIR missing in chroot $ROOT; run: lab/fetch-kernel.sh --refresh $VER"
	# Chroots made before sparse was part of the toolchain get it added.
	if printf '%s\n' "${MAKE_ARGS[@]}" | grep -qE '^C=[12]$' &&
		! chroot "$ROOT" sh -c 'command -v sparse' >/dev/null 2>&1; then
		"$HERE/$TOOLCHAIN-chroot.sh" "$ROOT"
	fi
	# One build at a time in the shared chroot directory. Everything that
	# mounts below it (this, trixie-chroot.sh's apt) holds this lock.
	exec 9>"$ROOT/build/.lock"
	flock 9
	# objtool of newer kernels (7.x) reads /proc ("read_stack_limit: fopen
	# failed" without it). A /proc already there under the lock is a leftover
	# of a killed build: use it, and leave it to whoever mounted it.
	if ! mountpoint -q "$ROOT/proc"; then
		mount -t proc proc "$ROOT/proc"
		trap 'umount "$ROOT/proc" 2>/dev/null || umount -l "$ROOT/proc" ||
			log "could not unmount $ROOT/proc"' EXIT
	fi
	M=/build/$MODULE-src
	copy_src "$ROOT$M"
	log "$VER ($REL): make -C $KDIR M=$M (in chroot $ROOT)"
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		make "$JOBS" -C "$KDIR" M="$M" KCFLAGS=-Werror "${MAKE_ARGS[@]}" modules ||
		die "build for $VER failed"
	BUILT="$ROOT$M"
else
	M="$OUT/src"
	copy_src "$M"
	log "$VER ($REL): make -C $KDIR M=$M CC=gcc"
	make "$JOBS" -C "$KDIR" M="$M" CC=gcc KCFLAGS=-Werror "${MAKE_ARGS[@]}" modules ||
		die "build for $VER failed"
	BUILT="$M"
fi

[ -f "$BUILT/$MODULE.ko" ] || die "$MODULE.ko was not produced in $BUILT"
cp "$BUILT/$MODULE.ko" "$OUT/$MODULE.ko"
# The module must carry this kernel's vermagic.
vm="$(grep -a -o -m1 'vermagic=[[:print:]]*' "$OUT/$MODULE.ko" | head -n1 || true)"
case "$vm" in "vermagic=$REL "*) ;; *) die "unexpected $vm (want $REL)" ;; esac
log "$VER: $OUT/$MODULE.ko ($vm)"
