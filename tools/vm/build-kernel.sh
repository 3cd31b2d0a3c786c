#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a guest kernel from Debian's linux-source-7.3 (trixie-backports):
# `make tinyconfig` + fragments from tools/vm, merged with the kernel's own
# scripts/kconfig/merge_config.sh.
#
#	build-kernel.sh debug       x86-64, tools/vm/debug.config: KASAN,
#	                            lockdep, kmemleak, DMA-API debug, UBSAN,
#	                            fault injection
#	build-kernel.sh arm64       arm64 (cross-built), tools/vm/arm64.config:
#	                            QEMU virt, SMMUv3, 4 KiB pages
#	build-kernel.sh arm64-64k   the same + tools/vm/arm64-64k.config
#	                            (CONFIG_ARM64_64K_PAGES)
#
# The build lives in $CACHE/kernels/NAME-KEY, where KEY hashes the
# fragments, the source tarball and the target, so it is redone only when
# one of them changes.  Prints the build directory (usable as KDIR for M=
# builds, with the image inside).  One build of a kernel at a time per
# cache: a second caller waits for the first and takes its result.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/tools/vm/source.sh"

name=${1:?usage: build-kernel.sh debug|arm64|arm64-64k}
ver=7.3
case "$name" in
debug)
	arch=x86_64 cross= target=bzImage frags=(debug.config) ;;
arm64)
	arch=arm64 cross=aarch64-linux-gnu- target=Image frags=(arm64.config) ;;
arm64-64k)
	arch=arm64 cross=aarch64-linux-gnu- target=Image
	frags=(arm64.config arm64-64k.config) ;;
*)
	die "unknown kernel to build '$name' (debug, arm64 or arm64-64k)" ;;
esac
frags=("${frags[@]/#/$TOP/tools/vm/}")

tarball=$(linux_source_tarball "$ver")
key=$( (cat "${frags[@]}"; echo "$arch $target"; stat -c %s "$tarball") |
	sha256sum | cut -c1-12)
out=$CACHE/kernels/$name-$key
if [ -f "$out/.built" ]; then
	echo "$out"
	exit 0
fi

# Build the configured tree in $out, print it and exit.
make_kernel() {
	"${kmake[@]}" -j"$(nproc)" "$target" modules >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "building the $name kernel failed (see $log)"; }
	touch "$out/.built"
	msg "$name kernel built in $(( $(date +%s) - start )) s"
	echo "$out"
	exit 0
}

mkdir -p "$CACHE/kernels"
exec 8>"$CACHE/kernels/.build-$name.lock"
if ! flock -n 8; then
	msg "another run is building the $name kernel; waiting for it"
	flock 8
	[ -f "$out/.built" ] && { echo "$out"; exit 0; }
fi

"$TOP/tools/vm/deps.sh" "kernel-$arch"
tree=$(linux_source_tree "$ver")
log=$out/build.log
kmake=(make -C "$tree" O="$out" ARCH="${arch/x86_64/x86}")
[ -n "$cross" ] && kmake+=(CROSS_COMPILE="$cross")
start=$(date +%s)
# A build that was stopped (Ctrl-C, a run killed with its session) goes on
# where it stopped: its configuration was checked, and make redoes only
# what is missing.
if [ -f "$out/.configured" ]; then
	msg "resuming the interrupted build of the $name kernel in $out (log: $log)"
	make_kernel
fi
rm -rf "$out"
mkdir -p "$out"
msg "building the $name kernel ($ver, $arch) in $out (log: $log)"
{
	"${kmake[@]}" tinyconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
	"${kmake[@]}" olddefconfig
} >"$log" 2>&1 || die "configuring the $name kernel failed (see $log)"

# merge_config.sh only warns when a value does not stick; a lost option here
# would silently weaken the lane, so refuse to build.  A later fragment's
# value of a symbol overrides an earlier one's.
declare -A want
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) sym=${line%%=*} ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *} ;;
	*) continue ;;
	esac
	want[$sym]=$line
done < <(cat "${frags[@]}")
lost=0
for line in "${want[@]}"; do
	grep -qxF "$line" "$out/.config" || { msg "not applied: $line"; lost=1; }
done
[ $lost = 0 ] || die "options of ${frags[*]##*/} did not apply (dependencies missing?)"
touch "$out/.configured"
make_kernel
