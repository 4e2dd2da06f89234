#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse-check.sh VER...: build with sparse (C=2) against each kernel and fail
# on any sparse report about our own sources (kernel headers are not ours).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for v in "$@"; do
	log=$ROOT/build/sparse-$v.log
	mkdir -p "$ROOT/build"
	if ! "$ROOT/lab/build-module.sh" "$v" "$ROOT" "$ROOT/build/sparse-$v" -- C=2 >"$log" 2>&1; then
		cat "$log"
		echo "sparse $v: build failed"
		rc=1
		continue
	fi
	if grep -E '(^|/)(src|include)/[a-z_]+\.[ch]:[0-9]+:[0-9]+: (warning|error)' "$log"; then
		echo "sparse $v: warnings in our sources"
		rc=1
	else
		echo "sparse $v: clean"
	fi
done
exit $rc
