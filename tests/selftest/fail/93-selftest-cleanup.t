# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the timed-out test's background child must be gone, and
# fake a kernel WARNING at KERN_WARNING (hidden from the console at loglevel=4)
# so the host must find it via init's end-of-run dmesg scan (expect +1 failure).
if ps | grep -v grep | grep -q 'sleep 1001'; then
	tap_fail "selftest: timed-out test's children were killed" "$(ps | grep 'sleep 1001')"
else
	tap_ok "selftest: timed-out test's children were killed"
fi
echo "<4>WARNING: CPU: 0 PID: $$ at tcd-selftest fake warning (TCD_SELFTEST)" >/dev/kmsg
tap_ok "selftest: fake kernel WARNING logged"
