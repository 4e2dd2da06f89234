# SPDX-License-Identifier: GPL-2.0
# The module the tcpconndiag-dkms package built (lab/pkg-test.sh bundles it as /tcpconndiag.ko):
# it loads, reports its version and diagnoses failures, and unloads.
# Env (tcd_env): TCD_EXPECT_VERSION, dkms.conf's PACKAGE_VERSION.
# tcd-timeout: 60

P=/proc/tcpconndiag

tap_check "dkms-built module loads" load_module || exit 0
want=${TCD_EXPECT_VERSION:-}
have=$(sed -n 's/^version: //p' $P)
if [ -n "$want" ] && [ "$have" = "$want" ]; then
	tap_ok "/proc version is dkms.conf's ($have)"
else
	tap_fail "/proc version is dkms.conf's" "proc: '$have' expected: '$want'"
fi
tap_check "/sys/module version is $want" grep -qx "$want" /sys/module/tcpconndiag/version
tap_check "kernel line is uname -r" grep -qx "kernel: $(uname -r)" $P
r0=$(sed -n 's/^counter: connect-econnrefused \([0-9]*\)$/\1/p' $P)
tcd-conn refused 3 >/tmp/ref.out
r1=$(sed -n 's/^counter: connect-econnrefused \([0-9]*\)$/\1/p' $P)
if [ "$(grep -c 'err=ECONNREFUSED' /tmp/ref.out)" -eq 3 ] && [ $((r1 - r0)) -eq 3 ]; then
	tap_ok "3 refused connects counted"
else
	tap_fail "3 refused connects counted" "$(cat /tmp/ref.out)" "counter $r0 -> $r1"
fi
tap_check "dkms-built module unloads" unload_module
