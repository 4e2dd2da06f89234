# SPDX-License-Identifier: GPL-2.0
# Harness self-test: crash the kernel; the host must report failure (no end
# marker, 'Kernel panic' on the console) instead of hanging.
if [ ! -w /proc/sysrq-trigger ]; then
	tap_skip "selftest: sysrq crash" "no CONFIG_MAGIC_SYSRQ"
	exit 0
fi
tap_ok "selftest: about to crash the kernel with sysrq-c"
sync
echo c >/proc/sysrq-trigger
tap_fail "selftest: kernel survived sysrq-c"
