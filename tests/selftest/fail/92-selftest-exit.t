# SPDX-License-Identifier: GPL-2.0
# Harness self-test: exit non-zero without reporting (expect 1 failure).
diag "selftest: exiting with status 3 without a result"
exit 3
