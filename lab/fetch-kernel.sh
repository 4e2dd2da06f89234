#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh [--refresh] all|NAME...
#
# Fetch real Debian kernels of the matrix (lab/kernels.conf: suites, flavour,
# toolchain per NAME): image, modules, headers, kbuild, into
#   $CACHE/kernels/NAME/{vmlinuz,release,modules/,kdir,root/,.complete}
# with CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag".
# Headers of "host" toolchain kernels are extracted in the cache (built with
# the host gcc); those of "trixie" ones go into the one shared trixie chroot
# (gcc-14), see trixie-chroot.sh, and NAME/chroot names it.
# Packages come from the mirror in the host's apt sources, via apt-get with a
# private sources list and state, so the host's apt state is never touched.
# A present .complete stamp means: do nothing (no network). Must run as root
# only when tools are missing or for chroot kernels (debootstrap/chroot).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/lib.sh
. "$HERE/lib.sh"
# shellcheck source=lab/matrix.sh
. "$HERE/matrix.sh"
ALL_VERS="$(matrix_names | tr '\n' ' ')"

usage() { echo "usage: $0 [--refresh] all|NAME...  (NAME: ${ALL_VERS% })" >&2; exit 2; }

suites_of() { matrix_get "$1" suites || usage; }
# A kernel built in a chroot (toolchain other than "host").
in_chroot() { [ "$(matrix_get "$1" toolchain)" != host ]; }

# A stamp is trusted only if what it promises is still there.
is_complete() {
	local k="$CACHE/kernels/$1" kd
	[ -f "$k/.complete" ] && [ -s "$k/vmlinuz" ] && [ -s "$k/release" ] && [ -s "$k/kdir" ] || return 1
	kd="$(cat "$k/kdir")"
	if in_chroot "$1"; then
		[ -s "$k/chroot" ] && [ -f "$(cat "$k/chroot")$kd/Makefile" ]
	else
		[ -f "$kd/Makefile" ]
	fi
}

# Package names that PKG's candidate version depends on (alternatives included).
deps_of() {
	apt_priv apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$1" | awk '$1 ~ /Depends:$/ { print $2 }'
}

# Make sure $CACHE/debs holds the candidate .deb of each package; sets DEBS.
download_debs() {
	local p ver arch f missing=()
	DEBS=()
	mkdir -p "$CACHE/debs"
	for p in "$@"; do
		ver="$(apt_priv apt-cache show --no-all-versions "$p" 2>/dev/null | awk '/^Version:/ { print $2; exit }' || true)"
		arch="$(apt_priv apt-cache show --no-all-versions "$p" 2>/dev/null | awk '/^Architecture:/ { print $2; exit }' || true)"
		[ -n "$ver" ] && [ -n "$arch" ] || die "package $p not found in $(suites_of "$VER")"
		f="$CACHE/debs/${p}_${ver//:/%3a}_${arch}.deb"
		DEBS+=("$f")
		[ -s "$f" ] || missing+=("$p=$ver")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		local tmp="$CACHE/debs/partial.$$"
		rm -rf "$tmp" && mkdir -p "$tmp"
		log "downloading ${missing[*]}"
		(cd "$tmp" && apt_priv apt-get download "${missing[@]}" >&2)
		mv "$tmp"/*.deb "$CACHE/debs/"
		rmdir "$tmp"
	else
		log "$VER: all .debs already cached in $CACHE/debs"
	fi
	for f in "${DEBS[@]}"; do
		[ -s "$f" ] || die "download of ${f##*/} failed"
	done
}

fetch_one() {
	VER="$1"
	local k="$CACHE/kernels/$VER" a="$CACHE/apt/$VER"
	mkdir -p "$CACHE/kernels"
	exec 9>"$CACHE/kernels/.$VER.lock"
	flock 9
	if [ "$REFRESH" = 0 ] && is_complete "$VER"; then
		log "$VER: cached ($(cat "$k/release")) in $k"
		return 0
	fi
	log "$VER: fetching into $k"
	local t0=$SECONDS

	# Private apt state for this kernel's suites.
	APT_DIR=$a
	# shellcheck disable=SC2046 # one word per suite
	apt_priv_update $(suites_of "$VER")

	# Resolve the current ABI through the metapackages; never hard-code it.
	local fl img hdr common kbuild suffix imgset
	fl="$(matrix_get "$VER" flavour)"
	img="$(deps_of "linux-image-$fl-amd64" | grep -E "^linux-image-.*-$fl-amd64\$" | head -n1 || true)"
	hdr="$(deps_of "linux-headers-$fl-amd64" | grep -E "^linux-headers-.*-$fl-amd64\$" | head -n1 || true)"
	[ -n "$img" ] && [ -n "$hdr" ] || die "$VER: cannot resolve linux-image/headers-$fl-amd64 in $(suites_of "$VER")"
	# Flavours other than the plain one have their own common headers (-common-rt).
	common="$(deps_of "$hdr" | grep -E '^linux-headers-.*-common(-rt)?$' | head -n1 || true)"
	kbuild="$(deps_of "$hdr" | grep -E '^linux-kbuild-' | head -n1 || true)"
	[ -n "$common" ] && [ -n "$kbuild" ] || die "$VER: cannot resolve the common headers/kbuild of $hdr"
	# 7.x splits the image: linux-image-ABI-FL is a metapackage depending on
	# linux-binary-ABI-FL (vmlinuz), linux-modules-ABI-FL and linux-base-ABI-FL
	# (config, modules.builtin). Older images have none of these.
	suffix="${img#linux-image-}"
	imgset="$(deps_of "$img" | awk -v s="$suffix" '$0 == "linux-binary-" s || $0 == "linux-modules-" s ||
		$0 == "linux-base-" s' | sort -u | tr '\n' ' ')"
	local -a imgpkgs
	read -r -a imgpkgs <<<"$img $imgset"
	log "$VER: ${imgpkgs[*]} $hdr $common $kbuild"

	download_debs "${imgpkgs[@]}" "$hdr" "$common" "$kbuild"
	local ni=${#imgpkgs[@]}
	local idebs=("${DEBS[@]:0:ni}") hdebs=("${DEBS[@]:ni}")

	# Extract afresh; .complete is written last.
	local m
	rm -rf "$k"
	mkdir -p "$k/root"
	for m in "${idebs[@]}"; do dpkg-deb -x "$m" "$k/root"; done

	local moddir rel
	moddir="$(find "$k/root/lib/modules" "$k/root/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1 || true)"
	[ -n "$moddir" ] || die "$VER: no lib/modules in ${imgpkgs[*]}"
	rel="$(basename "$moddir")"
	# The matrix name must match what the suite serves now (a backports
	# suite moving to 7.4 must not hide behind the name 7.3).
	case "$rel" in
	"${VER%%-*}".*-"$fl"-amd64 | "${VER%%-*}"-*-"$fl"-amd64) ;;
	*)
		rm -rf "$k"
		die "$VER: $(suites_of "$VER") now serve $rel, not a ${VER%%-*} $fl kernel: update lab/kernels.conf"
		;;
	esac
	# The kernel: boot/vmlinuz-REL (up to 6.x) or in the module dir (7.x split).
	local vml=
	if [ -f "$k/root/boot/vmlinuz-$rel" ]; then
		vml="$k/root/boot/vmlinuz-$rel"
	elif [ -f "$moddir/vmlinuz" ]; then
		vml="$moddir/vmlinuz"
	fi
	[ -n "$vml" ] || die "$VER: no boot/vmlinuz-$rel or .../modules/$rel/vmlinuz in ${imgpkgs[*]}"
	mv "$vml" "$k/vmlinuz"
	mv "$moddir" "$k/modules"
	# busybox insmod needs plain .ko (trixie ships .ko.xz).
	find "$k/modules" -name '*.ko.xz' -print0 | xargs -0 -r -n 64 -P "$(nproc)" xz -d
	for m in dummy veth; do
		[ -f "$k/modules/kernel/drivers/net/$m.ko" ] || die "$VER: $m.ko missing from $img"
	done
	if command -v depmod >/dev/null 2>&1; then
		# Refresh modules.dep for the uncompressed names (best effort).
		local tmp
		tmp="$(mktemp -d)"
		mkdir -p "$tmp/lib/modules" && ln -s "$k/modules" "$tmp/lib/modules/$rel"
		depmod -b "$tmp" "$rel" 2>/dev/null || log "$VER: depmod failed (ignored)"
		rm -rf "$tmp"
	fi

	local kdir
	if in_chroot "$VER"; then
		# Headers go inside the chroot so /usr/src paths match and gcc-14 is used.
		local tc chroot_dir
		tc="$(matrix_get "$VER" toolchain)"
		chroot_dir="$CACHE/$tc-root"
		"$HERE/$tc-chroot.sh" "$chroot_dir"
		# Kernels share the chroot (and 6.12/6.12-rt one kbuild package):
		# extract under build-module.sh's per-chroot lock, so no build reads
		# headers half-written and no two fetches write the same files.
		(
			flock 8
			for m in "${hdebs[@]}"; do dpkg-deb -x "$m" "$chroot_dir"; done
		) 8>"$chroot_dir/build/.lock"
		kdir="/usr/src/linux-headers-$rel"
		[ -f "$chroot_dir$kdir/Makefile" ] || die "$VER: $kdir/Makefile missing in chroot"
		echo "$chroot_dir" >"$k/chroot"
	else
		for m in "${hdebs[@]}"; do dpkg-deb -x "$m" "$k/root"; done
		kdir="$k/root/usr/src/linux-headers-$rel"
		[ -f "$kdir/Makefile" ] || die "$VER: $kdir/Makefile missing"
		# The flavour Makefile includes the common one by absolute path.
		sed -i -E "s#^(include[[:space:]]+)/usr/src/#\1$k/root/usr/src/#" "$kdir/Makefile"
		# Re-point any absolute symlinks into the extracted tree.
		local l t
		while IFS= read -r -d '' l; do
			t="$(readlink "$l")"
			ln -sfn "$k/root$t" "$l"
		done < <(find "$k/root/usr/src" "$k/root/usr/lib" -type l -lname '/*' -print0 2>/dev/null)
	fi

	echo "$rel" >"$k/release"
	echo "$kdir" >"$k/kdir"
	printf '%s\n' "release=$rel" "kdir=$kdir" "${DEBS[@]##*/}" >"$k/.complete"
	log "$VER: done: $rel ($((SECONDS - t0))s)"
}

REFRESH=0
ARGS=()
for arg in "$@"; do
	case "$arg" in
	--refresh) REFRESH=1 ;;
	-h | --help) usage ;;
	*) ARGS+=("$arg") ;;
	esac
done
[ ${#ARGS[@]} -ge 1 ] || usage
if [ "${ARGS[*]}" = all ]; then
	VERS="$ALL_VERS"
else
	matrix_check "${ARGS[@]}" || usage
	VERS="${ARGS[*]}"
fi

for v in $VERS; do
	if [ "$REFRESH" = 0 ] && is_complete "$v"; then
		log "$v: cached ($(cat "$CACHE/kernels/$v/release"))"
		continue
	fi
	need_tools apt-get:apt dpkg-deb:dpkg xz:xz-utils flock:util-linux
	if in_chroot "$v"; then need_tools debootstrap:debootstrap; fi
	fetch_one "$v"
done
