# SPDX-License-Identifier: GPL-2.0
# Harness self-test: hang the guest with the per-test timeout disabled, so only
# the host-side GUEST_TIMEOUT can end the run (run with a small GUEST_TIMEOUT).
# tcd-timeout: 0
tap_ok "selftest: hanging until the host gives up"
sleep 100000
