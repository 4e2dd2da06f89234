#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--refresh] [NAME]
#
# Build a debug kernel (default NAME: debug, a row of lab/kernels-debug.conf)
# from Debian's own kernel source package (linux-source-6.12 from trixie),
# patched as Debian ships it, with the kernel's checkers on: PREEMPT_RT,
# KASAN, lockdep (PROVE_LOCKING, PROVE_RAW_LOCK_NESTING), DEBUG_ATOMIC_SLEEP,
# kmemleak and debugobjects, on a small config: x86_64 defconfig minus what a
# QEMU guest without disks, USB, sound or graphics never uses, plus what the
# guest tests need. Cached like the fetched kernels:
#   $CACHE/kernels/NAME/{vmlinuz,release,modules/,kdir,chroot,config,
#                        build-seconds,build.log,.complete}
# The tree is built inside the trixie chroot (gcc-14, lab/trixie-chroot.sh)
# at /usr/src/tcd-NAME/{linux,obj}; obj/ is the kdir build-module.sh builds
# the module against (Module.symvers included). A present .complete stamp
# means: do nothing. Cold, this takes a long time (see README, check-debug):
# the build runs under `nice -n 19` with TCD_DEBUG_JOBS (default 2) jobs, so
# guests of others on the machine keep their CPU share. Needs root (chroot).
# The source comes from the mirror of the host's apt sources, with a private
# apt state (the host's is never touched).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/lib.sh
. "$HERE/lib.sh"
# shellcheck source=lab/matrix.sh
. "$HERE/matrix.sh"

usage() { echo "usage: $0 [--refresh] [NAME]  (NAME: $(debug_names | tr '\n' ' '))" >&2; exit 2; }

REFRESH=0
NAME=
for arg in "$@"; do
	case "$arg" in
	--refresh) REFRESH=1 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) [ -z "$NAME" ] || usage; NAME="$arg" ;;
	esac
done
NAME="${NAME:-debug}"
is_debug_kernel "$NAME" || { echo "$TCD_PROG: '$NAME' is no debug kernel" >&2; usage; }
SRCPKG="$(matrix_get "$NAME" flavour)"
TOOLCHAIN="$(matrix_get "$NAME" toolchain)"
[ "$TOOLCHAIN" = trixie ] || die "$NAME: toolchain $TOOLCHAIN: only trixie (the chroot) is supported"
JOBS="${TCD_DEBUG_JOBS:-2}"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "TCD_DEBUG_JOBS must be a positive number"

K="$CACHE/kernels/$NAME"
CHROOT="$CACHE/$TOOLCHAIN-root"
# Inside the chroot.
TREE="/usr/src/tcd-$NAME"

# Options on top of defconfig: NAME=y|m|n|value. Checked after olddefconfig:
# one that Kconfig dropped (a missing dependency) stops the build, so the
# kernel never silently lacks a checker.
WANT=(
	# What the module and the guest tests need.
	MODULES=y MODULE_UNLOAD=y
	KPROBES=y KRETPROBES=y FTRACE=y FUNCTION_TRACER=y DYNAMIC_FTRACE=y
	KPROBES_ON_FTRACE=y KPROBE_EVENTS=y
	DEBUG_FS=y
	NET=y INET=y IPV6=y UNIX=y
	NAMESPACES=y NET_NS=y USER_NS=y UTS_NS=y IPC_NS=y PID_NS=y
	CGROUPS=y BPF_SYSCALL=y CGROUP_BPF=y SOCK_CGROUP_DATA=y CGROUP_NET_CLASSID=y
	NETDEVICES=y NET_CORE=y DUMMY=m VETH=m
	DEVTMPFS=y DEVTMPFS_MOUNT=y TMPFS=y PROC_FS=y SYSFS=y
	BLK_DEV_INITRD=y RD_GZIP=y
	SERIAL_8250=y SERIAL_8250_CONSOLE=y
	ACPI=y
	KALLSYMS=y KALLSYMS_ALL=y IKCONFIG=y IKCONFIG_PROC=y
	# The checkers.
	EXPERT=y PREEMPT_RT=y
	KASAN=y KASAN_GENERIC=y KASAN_INLINE=y KASAN_VMALLOC=y
	PROVE_LOCKING=y PROVE_RAW_LOCK_NESTING=y PROVE_RCU=y DEBUG_ATOMIC_SLEEP=y
	DEBUG_KMEMLEAK=y DEBUG_KMEMLEAK_DEFAULT_OFF=n DEBUG_KMEMLEAK_AUTO_SCAN=n
	DEBUG_OBJECTS=y DEBUG_OBJECTS_FREE=y DEBUG_OBJECTS_TIMERS=y DEBUG_OBJECTS_WORK=y
	DEBUG_OBJECTS_RCU_HEAD=y DEBUG_OBJECTS_PERCPU_COUNTER=y DEBUG_OBJECTS_ENABLE_DEFAULT=1
	DEBUG_LIST=y
	# Emulated CPUs are slow: no stall report for a slow guest.
	RCU_CPU_STALL_TIMEOUT=300
	# Faster build, smaller kernel: nothing a -nic none, disk-less guest
	# uses. No debug info either (reports have symbol+offset).
	DEBUG_INFO_NONE=y
	DRM=n SOUND=n USB_SUPPORT=n WLAN=n WIRELESS=n CFG80211=n MAC80211=n
	NETWORK_FILESYSTEMS=n SECURITY_SELINUX=n MD=n ATA=n SCSI=n HID=n
	AGP=n FB=n HIBERNATION=n XEN=n
	LOCALVERSION_AUTO=n
)
LOCALVERSION="-tcd-$NAME"

# Sets DEB: the source package's .deb in $CACHE/debs (downloaded if missing).
fetch_source() {
	local a="$CACHE/apt/$NAME" ver
	APT_DIR=$a
	mkdir -p "$CACHE/debs"
	# shellcheck disable=SC2046 # one word per suite
	apt_priv_update $(matrix_get "$NAME" suites)
	ver="$(apt_priv apt-cache show --no-all-versions "$SRCPKG" 2>/dev/null | awk '/^Version:/ { print $2; exit }' || true)"
	[ -n "$ver" ] || die "$SRCPKG not found in $(matrix_get "$NAME" suites)"
	DEB="$CACHE/debs/${SRCPKG}_${ver//:/%3a}_all.deb"
	if [ -s "$DEB" ]; then
		log "$NAME: $SRCPKG $ver already in $CACHE/debs"
		return 0
	fi
	local tmp="$CACHE/debs/partial.$$"
	rm -rf "$tmp" && mkdir -p "$tmp"
	log "$NAME: downloading $SRCPKG=$ver"
	(cd "$tmp" && apt_priv apt-get download "$SRCPKG=$ver" >&2) || die "download of $SRCPKG=$ver failed"
	mv "$tmp"/*.deb "$DEB"
	rmdir "$tmp"
}

# in_chroot CMD...: run in the chroot with a clean environment.
in_chroot() {
	chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# check_config: every WANT option has its value in obj/.config.
check_config() {
	local o n v got bad=()
	for o in "${WANT[@]}"; do
		n="${o%%=*}" v="${o#*=}"
		got="$(sed -n -E "s/^CONFIG_$n=(.*)/\1/p" "$CHROOT$TREE/obj/.config")"
		got="${got#\"}" got="${got%\"}"
		if [ "$v" = n ]; then
			[ -z "$got" ] || bad+=("$n=$got (want n)")
		else
			[ "$got" = "$v" ] || bad+=("$n=${got:-unset} (want $v)")
		fi
	done
	[ ${#bad[@]} -eq 0 ] || die "$NAME: Kconfig did not take: ${bad[*]}"
}

build() {
	local t0=$SECONDS src
	fetch_source
	# gcc-14 and friends, plus what a whole kernel build needs.
	TCD_CHROOT_EXTRA_TOOLS="flex:flex bison:bison bc:bc cpio:cpio depmod:kmod /usr/include/openssl/ssl.h:libssl-dev" \
		"$HERE/$TOOLCHAIN-chroot.sh" "$CHROOT"

	rm -rf "$K" "${CHROOT:?}$TREE"
	mkdir -p "$K" "$CHROOT$TREE/obj"
	log "$NAME: unpacking $(basename "$DEB")"
	src="$(dpkg-deb -c "$DEB" | awk '{ print $NF }' | grep -E '^\./usr/src/linux-source-[^/]*\.tar\.xz$' | head -n1 || true)"
	[ -n "$src" ] || die "no usr/src/linux-source-*.tar.xz in $DEB"
	dpkg-deb --fsys-tarfile "$DEB" | tar -xO "$src" | xz -dc -T0 |
		tar -C "$CHROOT$TREE" -xf -
	mv "$CHROOT$TREE/$(basename "$src" .tar.xz)" "$CHROOT$TREE/linux" ||
		die "the tarball has no $(basename "$src" .tar.xz)/ directory"

	local mk=(make -C "$TREE/linux" O="$TREE/obj" ARCH=x86_64 CC=gcc-14 HOSTCC=gcc-14)
	in_chroot "${mk[@]}" -s x86_64_defconfig >"$K/build.log" 2>&1 || { tail -n 30 "$K/build.log" >&2; die "defconfig failed"; }
	local o args=()
	for o in "${WANT[@]}"; do
		case "${o#*=}" in
		y) args+=(-e "${o%%=*}") ;;
		m) args+=(-m "${o%%=*}") ;;
		n) args+=(-d "${o%%=*}") ;;
		*) args+=(--set-val "${o%%=*}" "${o#*=}") ;;
		esac
	done
	in_chroot "$TREE/linux/scripts/config" --file "$TREE/obj/.config" "${args[@]}" \
		--set-str LOCALVERSION "$LOCALVERSION"
	in_chroot "${mk[@]}" -s olddefconfig >>"$K/build.log" 2>&1 || { tail -n 30 "$K/build.log" >&2; die "olddefconfig failed"; }
	check_config
	cp "$CHROOT$TREE/obj/.config" "$K/config"
	log "$NAME: config ok; building (nice -n 19, -j$JOBS; log: $K/build.log)"

	local tb=$SECONDS
	in_chroot nice -n 19 "${mk[@]}" -j"$JOBS" bzImage modules >>"$K/build.log" 2>&1 ||
		{ grep -E -m 20 'error|Error' "$K/build.log" >&2; tail -n 20 "$K/build.log" >&2; die "$NAME: kernel build failed"; }
	echo $((SECONDS - tb)) >"$K/build-seconds"

	local rel
	rel="$(in_chroot "${mk[@]}" -s kernelrelease)"
	[ -n "$rel" ] || die "no kernelrelease"
	rm -rf "$CHROOT/tmp/tcd-$NAME-mods"
	in_chroot nice -n 19 "${mk[@]}" -s INSTALL_MOD_PATH="/tmp/tcd-$NAME-mods" modules_install \
		>>"$K/build.log" 2>&1 || { tail -n 20 "$K/build.log" >&2; die "modules_install failed"; }
	mv "$CHROOT/tmp/tcd-$NAME-mods/lib/modules/$rel" "$K/modules"
	rm -rf "$CHROOT/tmp/tcd-$NAME-mods"
	local m
	for m in dummy veth; do
		[ -f "$K/modules/kernel/drivers/net/$m.ko" ] || die "$NAME: $m.ko was not built"
	done
	cp "$CHROOT$TREE/obj/arch/x86/boot/bzImage" "$K/vmlinuz"
	[ -s "$CHROOT$TREE/obj/Module.symvers" ] || die "$NAME: no Module.symvers"
	echo "$rel" >"$K/release"
	echo "$TREE/obj" >"$K/kdir"
	echo "$CHROOT" >"$K/chroot"
	printf '%s\n' "release=$rel" "kdir=$TREE/obj" "source=$(basename "$DEB")" \
		"build_seconds=$(cat "$K/build-seconds")" >"$K/.complete"
	log "$NAME: done: $rel (build $(cat "$K/build-seconds")s, total $((SECONDS - t0))s)"
}

is_complete() {
	[ -f "$K/.complete" ] && [ -s "$K/vmlinuz" ] && [ -s "$K/release" ] && [ -s "$K/kdir" ] &&
		[ -s "$K/chroot" ] && [ -f "$(cat "$K/chroot")$(cat "$K/kdir")/Makefile" ] &&
		[ -f "$(cat "$K/chroot")$(cat "$K/kdir")/Module.symvers" ]
}

mkdir -p "$CACHE/kernels"
exec 9>"$CACHE/kernels/.$NAME.lock"
flock 9
if [ "$REFRESH" = 0 ] && is_complete; then
	log "$NAME: cached ($(cat "$K/release")) in $K"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (chroot)"
need_tools apt-get:apt dpkg-deb:dpkg xz:xz-utils flock:util-linux debootstrap:debootstrap
build
