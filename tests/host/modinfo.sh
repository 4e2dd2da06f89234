#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modinfo.sh [KO]: the module's metadata as modinfo (kmod) shows it: description,
# version == dkms.conf's PACKAGE_VERSION, license, and help text for every
# parameter (each also documented in README.md). KO: build/6.1/tcpconndiag.ko.
set -euo pipefail
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

KO=${1:-$ROOT/build/6.1/tcpconndiag.ko}
PARAMS="capacity maxactive maxactive_short alert_burst alert_interval test_drop_destroy"
want_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")

if ! command -v modinfo >/dev/null; then
	tap_fail "modinfo available" "install kmod (apt-get install kmod; make deps does)"
	tap_done
	exit
fi
if ! [ -f "$KO" ]; then
	tap_fail "module built: ${KO#"$ROOT"/}" "run make modules-all"
	tap_done
	exit
fi
info=$(modinfo "$KO")
field() { modinfo -F "$1" "$KO"; }

desc=$(field description)
if [ ${#desc} -ge 20 ]; then tap_ok "description: $desc"; else tap_fail "description present" "$info"; fi
v=$(field version)
if [ -n "$want_version" ] && [ "$v" = "$want_version" ]; then
	tap_ok "version $v == dkms.conf PACKAGE_VERSION"
else
	tap_fail "version == dkms.conf PACKAGE_VERSION" "modinfo: '$v' dkms.conf: '$want_version'"
fi
lic=$(field license)
case $lic in
GPL | "GPL v2" | "Dual BSD/GPL" | "Dual MIT/GPL") tap_ok "license $lic" ;;
*) tap_fail "license is GPL-compatible" "license: '$lic'" ;;
esac
vm=$(field vermagic)
rel=$(cat "${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag/kernels/6.1/release" 2>/dev/null || true)
if [ -z "$rel" ] || [ "${vm%% *}" = "$rel" ]; then
	tap_ok "vermagic ${vm%% *}"
else
	tap_fail "vermagic is the 6.1 guest kernel's" "vermagic: $vm" "want: $rel"
fi

# "parm: NAME:DESCRIPTION (TYPE)"; a parameter without help shows "NAME: (TYPE)" or no desc.
parms=$(field parm)
for p in $PARAMS; do
	line=$(grep "^$p:" <<<"$parms" || true)
	text=$(sed -E "s/^$p://; s/ \\([a-z]+\\)\$//" <<<"$line")
	if [ -n "$line" ] && [ ${#text} -ge 10 ]; then
		tap_ok "parm $p has help: $text"
	else
		tap_fail "parm $p has help text" "${line:-no parm line for $p}"
	fi
	tap_check "parm $p documented in README.md" grep -q "\`$p\`" "$ROOT/README.md"
done
# No parameter the list above (and the README) does not know.
extra=$(cut -d: -f1 <<<"$parms" | grep -vxE "$(tr ' ' '|' <<<"$PARAMS")" || true)
if [ -z "$extra" ]; then tap_ok "no undocumented parameters"; else tap_fail "no undocumented parameters" "$extra"; fi
tap_done
