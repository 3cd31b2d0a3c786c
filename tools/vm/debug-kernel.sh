#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the debug kernel (KASAN, lockdep, kmemleak, DMA-API debug, UBSAN, fault
# injection) from Debian's linux-source-6.1: tinyconfig + tools/vm/debug.config,
# merged with the kernel's own merge_config.sh.  The build lives in the cache
# and is redone only when the fragment or the source tarball changes.
# Prints the build directory (usable as KDIR for M= builds; bzImage inside).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/tools/vm/source.sh"

frag=$TOP/tools/vm/debug.config
tarball=$(linux_source_tarball)
key=$( (cat "$frag"; stat -c %s "$tarball") | sha256sum | cut -c1-12)
out=$CACHE/kernels/debug-$key
if [ -f "$out/.built" ]; then
	echo "$out"
	exit 0
fi

"$TOP/tools/vm/deps.sh" debug
tree=$(linux_source_tree)
rm -rf "$out"
mkdir -p "$out"
log=$out/build.log
msg "building the debug kernel in $out (about 8 minutes on 2 cores; log: $log)"
start=$(date +%s)
{
	make -C "$tree" O="$out" tinyconfig
	"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag"
	make -C "$tree" O="$out" olddefconfig
} >"$log" 2>&1 || die "configuring the debug kernel failed (see $log)"

# merge_config.sh only warns when a value does not stick; a lost option here
# would silently weaken the lane, so refuse to build.
lost=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { msg "not applied: $line"; lost=1; } ;;
	"# CONFIG_"*" is not set") grep -qxF "$line" "$out/.config" ||
		{ msg "not applied: $line"; lost=1; } ;;
	esac
done <"$frag"
[ $lost = 0 ] || die "debug.config options did not apply (dependencies missing?)"

make -C "$tree" O="$out" -j"$(nproc)" bzImage modules >>"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "building the debug kernel failed (see $log)"; }
touch "$out/.built"
msg "debug kernel built in $(( $(date +%s) - start )) s"
echo "$out"
