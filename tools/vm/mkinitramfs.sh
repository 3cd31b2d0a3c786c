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
# dependencies, decompressed; /init loads them in order.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1 kodir=$2 mode=$3 timeout=$4 testdir=$5 extradir=${6:-}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp -d makes a 0700 directory; it becomes the guest's /, and tests that
# drop to an unprivileged uid must be able to reach /dev and /bin.
chmod 755 "$root"

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,tests}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/tools/vm/guest-init" "$root/init"
chmod 755 "$root/init"
find "$kodir" -name '*.ko' -exec cp {} "$root/lib/modules/" \;
[ -f "$root/lib/modules/guestmem.ko" ] || die "no guestmem.ko under $kodir"

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

# Helper programs the tests run (TESTDIR/helpers/*, e.g. gmem) go to /bin,
# with the shared libraries they link (ldd) at the same paths as here.
for f in "$testdir"/helpers/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	cp "$f" "$root/bin/"
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

# GMRUN_BENCH_ARGS: gmbench's arguments in bench mode (BENCH_ARGS).
cat >"$root/etc/gmrun.conf" <<CONF
GMRUN_MODE=$mode
GMRUN_TEST_TIMEOUT=$timeout
GMRUN_TESTS="${list[*]}"
GMRUN_BENCH_ARGS="${BENCH_ARGS:-}"
CONF
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
