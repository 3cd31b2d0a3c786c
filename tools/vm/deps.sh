#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing guestmem needs on Debian 12 (idempotent,
# quick when everything is present).
#
#	deps.sh [debug] [arm64] [kernel-x86_64] [kernel-arm64] [bench] [pkg]
#
# debug / kernel-x86_64: build a kernel from Debian's source; arm64: the
# arm64 lanes (QEMU for arm64, the cross compiler and its libc);
# kernel-arm64: cross-build an arm64 kernel; pkg: make check-pkg (a
# consumer built with pkg-config, in C and C++; the man pages rendered).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(make gcc libc6-dev python3 linux-headers-amd64 qemu-system-x86 busybox-static
      cpio gzip xz-utils kmod libmnl-dev sparse)
kbuild=(flex bison bc libelf-dev libssl-dev)
for want in "$@"; do
	case "$want" in
	# Kernels are built from Debian's linux-source.
	debug|kernel-x86_64) pkgs+=("${kbuild[@]}") ;;
	kernel-arm64) pkgs+=("${kbuild[@]}" gcc-aarch64-linux-gnu) ;;
	arm64) pkgs+=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross) ;;
	# make bench draws its chart with gnuplot (the build without X).
	bench) pkgs+=(gnuplot-nox) ;;
	pkg) pkgs+=(pkg-config g++ man-db) ;;
	*) die "deps.sh: unknown set '$want'" ;;
	esac
done
apt_install "${pkgs[@]}"
