#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a guest kernel available and describe it, as shell assignments:
#
#	eval "$(tools/vm/kernels.sh 6.1)"   # 6.1 | 6.12 | debug | arm64 | arm64-64k
#
# sets KVER (release), KARCH (x86_64 or arm64: which QEMU boots it and which
# user space goes with it), KDIR (tree for M= module builds), KMAKE (extra
# make arguments for that tree), VMLINUZ (image to boot) and MODROOT (the
# image's /lib/modules/KVER with a modules.dep, empty for the kernels built
# here, whose drivers are built in).
#
# 6.1: the headers come from the machine's linux-headers-amd64 (installed with
# apt-get) and the image is downloaded and unpacked, never installed.
# 6.12: headers, kbuild and image all come from bookworm-backports through a
# private apt state in the cache and are unpacked there.
# debug, arm64, arm64-64k: built by tools/vm/build-kernel.sh from Debian's
# linux-source-7.3 (trixie-backports); the arm64 ones are cross-built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: kernels.sh 6.1|6.12|debug|arm64|arm64-64k}
case "$name" in
6.1)
	"$TOP/tools/vm/deps.sh"
	kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		grep -o 'linux-headers-[^ ,]*' | head -n 1)
	kver=${kver#linux-headers-}
	[ -n "$kver" ] || die "cannot tell which 6.1 headers linux-headers-amd64 installed"
	dir=$CACHE/kernels/$kver
	if [ ! -f "$dir/.unpacked" ]; then
		msg "fetching linux-image-$kver"
		apt_update_once
		rm -rf "$dir"
		fetch_deb "linux-image-$kver" "$CACHE/dl" "$dir/root"
		touch "$dir/.unpacked"
	fi
	[ -f "$dir/root/lib/modules/$kver/modules.dep" ] ||
		depmod -b "$dir/root" "$kver" || die "depmod for $kver failed"
	echo "KVER=$kver"
	echo "KARCH=x86_64"
	echo "KDIR=/lib/modules/$kver/build"
	echo "KMAKE="
	echo "VMLINUZ=$dir/root/boot/vmlinuz-$kver"
	echo "MODROOT=$dir/root/lib/modules/$kver"
	;;
6.12)
	"$TOP/tools/vm/deps.sh"
	stamp=$CACHE/kernels/bpo-updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		msg "apt-get update (bookworm-backports, private state)"
		mkdir -p "$CACHE/kernels"
		bpo_apt apt-get update -q >/dev/null || die "bookworm-backports update failed"
		touch "$stamp"
	fi
	hdr=$(bpo_apt apt-cache show linux-headers-amd64 2>/dev/null |
		grep -o 'linux-headers-6\.12[^ ,]*-amd64' | sort -V | tail -n 1)
	[ -n "$hdr" ] || die "bookworm-backports offers no 6.12 linux-headers-amd64"
	kver=${hdr#linux-headers-}
	abi=${kver%-amd64}
	dir=$CACHE/kernels/$kver
	if [ ! -f "$dir/.unpacked" ]; then
		msg "fetching $kver headers, kbuild and image from bookworm-backports"
		rm -rf "$dir"
		for p in "linux-headers-$kver" "linux-headers-$abi-common" \
			 "linux-kbuild-$abi" "linux-image-$kver-unsigned"; do
			fetch_deb "$p" "$CACHE/dl" "$dir/root" bpo_apt
		done
		# The arch headers' Makefile includes the -common one by absolute
		# path; point it into the unpacked tree.
		mk=$dir/root/usr/src/linux-headers-$kver/Makefile
		sed -i "s|include /usr/src/|include $dir/root/usr/src/|" "$mk"
		touch "$dir/.unpacked"
	fi
	[ -f "$dir/root/lib/modules/$kver/modules.dep" ] ||
		depmod -b "$dir/root" "$kver" || die "depmod for $kver failed"
	echo "KVER=$kver"
	echo "KARCH=x86_64"
	echo "KDIR=$dir/root/usr/src/linux-headers-$kver"
	# The headers ship vmlinux for BTF; skip module BTF rather than need pahole.
	echo "KMAKE='CONFIG_DEBUG_INFO_BTF_MODULES='"
	echo "VMLINUZ=$dir/root/boot/vmlinuz-$kver"
	echo "MODROOT=$dir/root/lib/modules/$kver"
	;;
debug)
	out=$("$TOP/tools/vm/build-kernel.sh" debug)
	echo "KVER=$(cat "$out/include/config/kernel.release")"
	echo "KARCH=x86_64"
	echo "KDIR=$out"
	echo "KMAKE="
	echo "VMLINUZ=$out/arch/x86/boot/bzImage"
	echo "MODROOT="
	;;
arm64|arm64-64k)
	out=$("$TOP/tools/vm/build-kernel.sh" "$name")
	echo "KVER=$(cat "$out/include/config/kernel.release")"
	echo "KARCH=arm64"
	echo "KDIR=$out"
	echo "KMAKE='ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-'"
	echo "VMLINUZ=$out/arch/arm64/boot/Image"
	echo "MODROOT="
	;;
*)
	die "unknown kernel '$name' (6.1, 6.12, debug, arm64 or arm64-64k)"
	;;
esac
