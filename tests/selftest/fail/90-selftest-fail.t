# SPDX-License-Identifier: GPL-2.0
# Harness self-test: one pass and one deliberate failure (expect 1 failure).
tap_ok "selftest: a passing check"
tap_fail "selftest: deliberate failure" "this failure is intended (TCD_SELFTEST)"
