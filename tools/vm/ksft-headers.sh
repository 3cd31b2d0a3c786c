#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Put kselftest_harness.h and kselftest.h from Debian's linux-source-6.1 into
# $1 (default: $CACHE/ksft).  Only those two files are ever extracted here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE/ksft}
[ -f "$out/kselftest_harness.h" ] && [ -f "$out/kselftest.h" ] && exit 0
. "$TOP/tools/vm/source.sh"
tarball=$(linux_source_tarball)
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
msg "extracting kselftest headers from $(basename "$tarball")"
tar -xJf "$tarball" -C "$tmp" --wildcards \
	'*/tools/testing/selftests/kselftest_harness.h' '*/tools/testing/selftests/kselftest.h'
cp "$tmp"/*/tools/testing/selftests/kselftest{_harness,}.h "$out/"
