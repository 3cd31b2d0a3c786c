#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing guestmem needs on Debian 12 (idempotent,
# quick when everything is present).  Usage: deps.sh [debug] [bench]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(make gcc libc6-dev python3 linux-headers-amd64 qemu-system-x86 busybox-static
      cpio gzip xz-utils kmod libmnl-dev sparse)
# The debug kernel is built from Debian's linux-source-6.1.
[ "${1:-}" = debug ] && pkgs+=(flex bison bc libelf-dev libssl-dev)
# make bench draws its chart with gnuplot (the build without X).
[[ " $* " = *" bench "* ]] && pkgs+=(gnuplot-nox)
apt_install "${pkgs[@]}"
