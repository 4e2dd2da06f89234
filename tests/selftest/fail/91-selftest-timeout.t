# SPDX-License-Identifier: GPL-2.0
# Harness self-test: overrun the per-test timeout with a background child still
# running (expect 1 pass, 1 timeout failure; 93 checks the child was killed).
# tcd-timeout: 5
tap_ok "selftest: before sleeping past the timeout"
sleep 1001 &
sleep 600
tap_fail "selftest: timeout did not fire"
