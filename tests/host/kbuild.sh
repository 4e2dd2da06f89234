#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh: the compat layer stops the build loudly instead of building a
# module with features silently off. Against the 6.1 headers (host gcc):
#  - a kernel tree whose srctree lacks include/net: Kbuild's "no kernel
#    headers" error, no .ko;
#  - a tree whose __inet_stream_connect() has an unknown argument list: the
#    compile probe's error naming the function, no .ko;
#  - the real tree: the detected-features line, and a .ko.
# The fake trees are symlink farms over the cached headers (no copy).
set -euo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag
VER=6.1
if ! [ -s "$CACHE/kernels/$VER/kdir" ]; then
	tap_fail "kernel $VER headers cached" "run make kernels"
	tap_done
	exit
fi
KDIR=$(cat "$CACHE/kernels/$VER/kdir")
COMMON=$(sed -n 's#^include[[:space:]]\{1,\}\(.*\)/Makefile$#\1#p' "$KDIR/Makefile")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# farm DST SRC: DST/x -> SRC/x for every entry x of SRC.
farm() {
	mkdir -p "$1"
	local e
	for e in "$2"/* "$2"/.[!.]*; do
		if [ -e "$e" ]; then ln -s "$e" "$1/${e##*/}"; fi
	done
}

# fake_tree NAME: $T/NAME/{flavour,common}, the flavour's Makefile pointing at
# the fake common, whose include/ is its own directory (to edit below).
fake_tree() {
	local f=$T/$1/flavour c=$T/$1/common
	farm "$f" "$KDIR"
	rm "$f/Makefile"
	sed "s#^include .*/Makefile\$#include $c/Makefile#" "$KDIR/Makefile" >"$f/Makefile"
	farm "$c" "$COMMON"
	rm "$c/include"
	farm "$c/include" "$COMMON/include"
	rm "$c/include/net"
	farm "$c/include/net" "$COMMON/include/net"
}

# build NAME KDIR: make the module against KDIR into $T/NAME/m; output in $T/NAME.log.
build() {
	mkdir -p "$T/$1/m"
	tar -C "$ROOT" --exclude=./.git --exclude=./build -cf - . | tar -C "$T/$1/m" -xf -
	make -C "$2" M="$T/$1/m" CC=gcc KCFLAGS=-Werror modules >"$T/$1.log" 2>&1
}

# expect_stop NAME PATTERN DESC: the build failed with PATTERN and made no .ko.
expect_stop() {
	if build "$1" "$T/$1/flavour"; then
		tap_fail "$3" "the build succeeded" "$(grep tcpconndiag: "$T/$1.log")"
	elif ! grep -q -e "$2" "$T/$1.log"; then
		tap_fail "$3" "no '$2' in the output:" "$(tail -n 15 "$T/$1.log")"
	elif [ -e "$T/$1/m/tcpconndiag.ko" ]; then
		tap_fail "$3" "a tcpconndiag.ko was made anyway"
	else
		tap_ok "$3"
		echo "# $(grep -o "tcpconndiag: $2.*" "$T/$1.log" | head -n 1 | cut -c1-300)"
	fi
}

fake_tree noheaders
rm -r "$T/noheaders/common/include/net"
expect_stop noheaders 'no kernel headers under' "headers missing from srctree: the build stops"

fake_tree badsig
rm "$T/badsig/common/include/net/inet_common.h"
sed 's/^int __inet_stream_connect(struct socket \*sock, struct sockaddr \*uaddr,/int __inet_stream_connect(struct sock *sock, struct sockaddr *uaddr,/' \
	"$COMMON/include/net/inet_common.h" >"$T/badsig/common/include/net/inet_common.h"
if cmp -s "$COMMON/include/net/inet_common.h" "$T/badsig/common/include/net/inet_common.h"; then
	tap_fail "the fake header changes __inet_stream_connect's first argument" "sed matched nothing"
else
	expect_stop badsig '__inet_stream_connect: neither' \
		"unknown __inet_stream_connect() arguments: the build stops"
fi

if build real "$KDIR" && [ -e "$T/real/m/tcpconndiag.ko" ]; then
	tap_ok "the real $VER headers build"
	line=$(grep -o 'tcpconndiag: [^ ]*: sk_wait_pending=.*' "$T/real.log" | head -n 1)
	if [ -n "$line" ]; then
		tap_ok "the build prints what it detected"
		echo "# $line"
	else
		tap_fail "the build prints what it detected" "$(tail -n 15 "$T/real.log")"
	fi
else
	tap_fail "the real $VER headers build" "$(tail -n 25 "$T/real.log")"
fi
tap_done
