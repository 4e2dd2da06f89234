# SPDX-License-Identifier: GPL-2.0
# Between two tests on a debug kernel (run-guest.sh adds it after each): any
# checker report logged since the previous check, printed as "debug-report: "
# lines right away, so a report is placed after the test that caused it and
# reaches the host even if a later test hangs the guest. Sourced by /init
# with lib.sh.
# tcd-timeout: 60

. /tests/lib-debug.sh

debug_reports_check " after the test above"
