#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test VM's initramfs: busybox, the guestmem module, the test
# programs and /etc/gmrun.conf.
#
#	mkinitramfs.sh OUT.cpio.gz KODIR MODE TIMEOUT TESTDIR [EXTRADIR]
#
# Every .ko under KODIR (guestmem.ko and any test modules) becomes
# /lib/modules/NAME.ko; /init loads guestmem.ko, tests load the others.
# Every executable in TESTDIR becomes /tests/NAME; every executable in
# EXTRADIR becomes /tests/extra/NAME; every executable in TESTDIR/helpers
# becomes /bin/NAME, with its shared libraries.  TESTS (environment) limits the run to
# the named programs.  MODROOT (environment, a kernel's /lib/modules/KVER)
# supplies the in-tree modules named in GUEST_KMODS, with their
# dependencies, decompressed; /init loads them in order.  FUZZ_BIN
# (environment) becomes /tests/gmfuzz, run with the arguments FUZZ_ARGS
# under the limit FUZZ_TIMEOUT (default TIMEOUT).
#
# VM_ARCH=arm64 (environment) builds the arm64 guest's: busybox and the
# helpers' shared libraries come from ARM64_ROOT (Debian's arm64 packages,
# unpacked: tools/vm/lib.sh arm64_root) and the cross toolchain's libc, the
# report goes to ttyS0 (a PCI 16550; the console is the PL011) and the guest
# says it finished with its last report line rather than isa-debug-exit.
# NOMODULE=<why> (environment) builds a guest that runs its tests without
# loading guestmem (a kernel the module refuses to build for).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1 kodir=$2 mode=$3 timeout=$4 testdir=$5 extradir=${6:-}
arch=${VM_ARCH:-x86_64} nomodule=${NOMODULE:-}
case "$arch" in
x86_64)
	busybox=/bin/busybox report=/dev/ttyS1 exit=isa-debug-exit ;;
arm64)
	[ -d "${ARM64_ROOT:-}" ] || die "VM_ARCH=arm64 needs ARM64_ROOT"
	busybox=$ARM64_ROOT/bin/busybox report=/dev/ttyS0 exit=poweroff
	# Where the helpers' libraries are, in the order the guest's ld.so
	# would look (Debian's multiarch directory).
	libpath=(/usr/aarch64-linux-gnu/lib "$ARM64_ROOT/usr/lib/aarch64-linux-gnu")
	;;
*)
	die "VM_ARCH must be x86_64 or arm64, not '$arch'" ;;
esac
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp -d makes a 0700 directory; it becomes the guest's /, and tests that
# drop to an unprivileged uid must be able to reach /dev and /bin.
chmod 755 "$root"

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,tests}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/tools/vm/guest-init" "$root/init"
chmod 755 "$root/init"
find "$kodir" -name '*.ko' -exec cp {} "$root/lib/modules/" \;
[ -n "$nomodule" ] || [ -f "$root/lib/modules/guestmem.ko" ] || die "no guestmem.ko under $kodir"

# In-tree modules the tests rely on (a RAM disk and a disk filesystem).
: >"$root/etc/gmrun.kmods"
if [ -n "${MODROOT:-}" ] && [ -f "$MODROOT/modules.dep" ]; then
	for m in ${GUEST_KMODS-brd crc32c_generic ext4}; do
		line=$(grep -E "(^|/)${m//[-_]/[-_]}\.ko(\.xz)?:" "$MODROOT/modules.dep") ||
			die "no module $m in $MODROOT"
		deps=${line#*:}
		order=()
		for d in $deps; do order=("$d" "${order[@]}"); done
		order+=("${line%%:*}")
		for rel in "${order[@]}"; do
			ko=$(basename "${rel%.xz}")
			grep -qxF "/lib/modules/$ko" "$root/etc/gmrun.kmods" && continue
			case "$rel" in
			*.xz) xz -dc "$MODROOT/$rel" >"$root/lib/modules/$ko" ;;
			*) cp "$MODROOT/$rel" "$root/lib/modules/$ko" ;;
			esac
			echo "/lib/modules/$ko" >>"$root/etc/gmrun.kmods"
		done
	done
fi

# A cross-built program's shared libraries, which ldd cannot list: its
# interpreter at the path it names, and its DT_NEEDED libraries (and theirs),
# found in ${libpath[@]}, in /lib/aarch64-linux-gnu.
copy_cross_libs() {
	local f=$1 interp need dir found
	interp=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
		mkdir -p "$root$(dirname "$interp")"
		cp -L "${libpath[0]}/$(basename "$interp")" "$root$interp" ||
			die "no $(basename "$interp") in ${libpath[0]}"
	fi
	for need in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/lib/aarch64-linux-gnu/$need" ] && continue
		found=
		for dir in "${libpath[@]}"; do
			[ -e "$dir/$need" ] && { found=$dir/$need; break; }
		done
		[ -n "$found" ] || die "$(basename "$f") needs $need, found in none of ${libpath[*]}"
		mkdir -p "$root/lib/aarch64-linux-gnu"
		cp -L "$found" "$root/lib/aarch64-linux-gnu/$need"
		copy_cross_libs "$found"
	done
}

# Helper programs the tests run (TESTDIR/helpers/*, e.g. gmem) go to /bin,
# with the shared libraries they link (ldd) at the same paths as here.
for f in "$testdir"/helpers/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	cp "$f" "$root/bin/"
	if [ "$arch" != x86_64 ]; then
		copy_cross_libs "$f"
		continue
	fi
	for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; }
	done
done

list=()
for f in "$testdir"/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	cp "$f" "$root/tests/"
	list+=("$(basename "$f")")
done
# The fuzzer after the selftests, before the sweeps (below).
if [ -n "${FUZZ_BIN:-}" ]; then
	cp "$FUZZ_BIN" "$root/tests/gmfuzz"
	list+=(gmfuzz)
fi
# The fault-injection sweeps last: a failure they inject into the DMA-API
# debugging's own bookkeeping turns it off for the rest of the boot
# ("DMA-API: cacheline tracking ENOMEM, dma-debug disabled").
first=() last=()
for l in "${list[@]}"; do
	case "$l" in
	*fail_nth*) last+=("$l") ;;
	*) first+=("$l") ;;
	esac
done
list=("${first[@]}" "${last[@]}")
if [ -n "$extradir" ]; then
	[ -d "$extradir" ] || die "EXTRA_TESTS=$extradir is not a directory"
	mkdir -p "$root/tests/extra"
	for f in "$extradir"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp "$f" "$root/tests/extra/"
		list+=("extra/$(basename "$f")")
	done
fi
if [ -n "${TESTS:-}" ]; then
	sel=()
	for t in $TESTS; do
		found=
		for l in "${list[@]}"; do
			[ "$l" = "$t" ] || [ "$l" = "extra/$t" ] && { sel+=("$l"); found=1; }
		done
		[ -n "$found" ] || die "TESTS: no test program named '$t' (have: ${list[*]})"
	done
	list=("${sel[@]}")
fi

# GMRUN_BENCH_ARGS: gmbench's arguments in bench mode (BENCH_ARGS);
# GMRUN_FUZZ_ARGS, GMRUN_FUZZ_TIMEOUT: gmfuzz's.
cat >"$root/etc/gmrun.conf" <<CONF
GMRUN_MODE=$mode
GMRUN_TEST_TIMEOUT=$timeout
GMRUN_TESTS="${list[*]}"
GMRUN_BENCH_ARGS="${BENCH_ARGS:-}"
GMRUN_FUZZ_ARGS="${FUZZ_ARGS:-}"
GMRUN_FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-$timeout}
GMRUN_REPORT=$report
GMRUN_EXIT=$exit
GMRUN_NOMODULE="$nomodule"
CONF
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
