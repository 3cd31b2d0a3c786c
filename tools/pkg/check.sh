#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-pkg, the first step of make check: what a distribution package
# would ship, checked on the host in seconds, without a VM.
#
#	tools/pkg/check.sh            the user-space half of make install
#	tools/pkg/check.sh --module   all of make install, the module too
#	                              (needs kernel headers; builds it)
#
#  1. make install DESTDIR=<tmp> PREFIX=/usr puts exactly the expected files
#     (printed as the package tree);
#  2. libguestmem.so: real name, soname and links; it exports only gm_*
#     names, each with a LIBGUESTMEM_* version, and they are exactly the
#     functions of <guestmem.h> and of libguestmem.map, each with a man page;
#  3. every man page renders without a warning, every .so link has its page;
#  4. a C and a C++ consumer build with pkg-config --cflags --libs guestmem
#     from the installed tree, shared and static, and run;
#  5. with --module: the module lands in /lib/modules/<release>/extra/kmod, without
#     the test module, with its version and aliases, and depmod resolves
#     the aliases;
#  6. make uninstall leaves nothing behind.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
module=
[ "${1:-}" = --module ] && module=1

# The layout is this script's, whatever the caller's environment says.
unset DESTDIR PREFIX LIBDIR INCLUDEDIR SBINDIR MANDIR UDEVRULESDIR SYSUSERSDIR MODDIR

fail() { echo "check-pkg: FAIL: $*" >&2; exit 1; }
ok() { echo "check-pkg: ok: $*"; }

# What building and checking the package needs (libmnl-dev, pkg-config,
# g++, man-db): installed if missing, as make check installs its own.
"$TOP/tools/vm/deps.sh" pkg || fail "installing the build dependencies"

D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
PREFIX=/usr
LIBDIR=$PREFIX/lib
VERSION=$(sed -n 's/^VERSION := *//p' "$TOP/Makefile")
MAJOR=${VERSION%%.*}
M="make -s -C $TOP DESTDIR=$D/root PREFIX=$PREFIX"

# 1. The tree.
if [ -n "$module" ]; then
	$M install >"$D/install.log" 2>&1 || { cat "$D/install.log"; fail "make install"; }
else
	$M install-user >"$D/install.log" 2>&1 || { cat "$D/install.log"; fail "make install-user"; }
fi
(cd "$D/root" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort) >"$D/tree"

krel=
[ -n "$module" ] && krel=$(ls "$D/root/lib/modules")
syms=$(nm -D --defined-only "$D/root$LIBDIR/libguestmem.so.$VERSION" |
	awk '$2 != "A" { print $3 }' | sort)
names=$(echo "$syms" | sed 's/@.*//' | sort -u)
{
	echo "$LIBDIR/libguestmem.a"
	echo "$LIBDIR/libguestmem.so"
	echo "$LIBDIR/libguestmem.so.$MAJOR"
	echo "$LIBDIR/libguestmem.so.$VERSION"
	echo "$LIBDIR/pkgconfig/guestmem.pc"
	echo "$PREFIX/include/guestmem.h"
	echo "$PREFIX/include/linux/guestmem.h"
	echo "$PREFIX/include/linux/guestmem_netlink.h"
	echo "$PREFIX/sbin/gmem"
	echo "$PREFIX/lib/udev/rules.d/60-guestmem.rules"
	echo "$PREFIX/lib/sysusers.d/guestmem.conf"
	echo "$PREFIX/share/man/man3/libguestmem.3"
	echo "$PREFIX/share/man/man3/gm_paged_range.3"
	echo "$PREFIX/share/man/man4/guestmem.4"
	echo "$PREFIX/share/man/man8/gmem.8"
	for n in $names; do echo "$PREFIX/share/man/man3/$n.3"; done
	[ -z "$module" ] || echo "/lib/modules/$krel/extra/kmod/guestmem.ko"
} | sort -u >"$D/want"
if ! diff -u "$D/want" "$D/tree" >"$D/diff"; then
	cat "$D/diff"
	fail "make install put other files than expected (- missing, + extra)"
fi
echo "check-pkg: the installed tree (DESTDIR=..., PREFIX=$PREFIX):"
(cd "$D/root" && find . -mindepth 1 | sort | sed 's|^\./|  /|' |
	grep -vE '/man3/gm_[a-z0-9_]+\.3$') || true
echo "  $PREFIX/share/man/man3/gm_*.3 ($(grep -c '/man3/gm_' "$D/tree") pages and .so links)"
ok "make install put $(wc -l <"$D/tree") files, as expected"

# 2. The library's ABI.
lib=$D/root$LIBDIR
[ "$(readlink "$lib/libguestmem.so")" = "libguestmem.so.$MAJOR" ] || fail "libguestmem.so link"
[ "$(readlink "$lib/libguestmem.so.$MAJOR")" = "libguestmem.so.$VERSION" ] ||
	fail "libguestmem.so.$MAJOR link"
soname=$(readelf -d "$lib/libguestmem.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libguestmem.so.$MAJOR" ] || fail "soname is '$soname'"
bad=$(echo "$syms" | grep -vE '^gm_[a-z0-9_]+@@?LIBGUESTMEM_[0-9.]+$' || true)
[ -z "$bad" ] || fail "exported but not a versioned gm_ function: $bad"
map=$(sed -n 's/^[[:space:]]*\(gm_[a-z0-9_]*\);.*/\1/p' "$TOP/userlib/libguestmem.map" | sort -u)
hdr=$(gcc -E -P -I"$D/root$PREFIX/include" -x c - <<<'#include <guestmem.h>' |
	grep -oE '\bgm_[a-z0-9_]+[[:space:]]*\(' | tr -d '( \t' | sort -u)
[ "$names" = "$map" ] || fail "exports differ from libguestmem.map: $(comm -3 <(echo "$names") <(echo "$map") | tr '\n' ' ')"
[ "$names" = "$hdr" ] || fail "exports differ from <guestmem.h>: $(comm -3 <(echo "$names") <(echo "$hdr") | tr '\n' ' ')"
ok "libguestmem.so.$VERSION (soname libguestmem.so.$MAJOR) exports the $(echo "$names" | wc -l) functions of <guestmem.h> and libguestmem.map, all versioned"

# 3. Man pages.
make -s -C "$TOP/Documentation/man" check >/dev/null || fail "a man page has warnings"
pages=0 links=0
for f in "$D/root$PREFIX"/share/man/man*/*; do
	if target=$(sed -n '1s/^\.so //p' "$f") && [ -n "$target" ]; then
		[ -f "$D/root$PREFIX/share/man/$target" ] || fail "$f points to a missing $target"
		links=$((links + 1))
	else
		cmp -s "$f" "$TOP/Documentation/man/${f##*/}" || fail "$f is not the page rendered above"
		pages=$((pages + 1))
	fi
done
ok "$pages man pages render without warnings; $links .so links point to them"

# 4. Consumers, built as a user of the installed package would build them.
export PKG_CONFIG_SYSROOT_DIR=$D/root PKG_CONFIG_LIBDIR=$D/root$LIBDIR/pkgconfig
[ "$(pkg-config --modversion guestmem)" = "$VERSION" ] || fail "guestmem.pc version"
read -ra flags <<<"$(pkg-config --cflags --libs guestmem)"
read -ra cflags <<<"$(pkg-config --cflags guestmem)"
gcc -std=c11 -Wall -Wextra -Werror -o "$D/consumer" "$TOP/tools/pkg/consumer.c" "${flags[@]}" ||
	fail "the C consumer does not build"
g++ -std=c++11 -Wall -Wextra -pedantic -Werror -o "$D/consumer++" \
	"$TOP/tools/pkg/consumer.cpp" "${flags[@]}" || fail "the C++ consumer does not build"
gcc -std=c11 -Wall -Wextra -Werror -o "$D/consumer-static" "$TOP/tools/pkg/consumer.c" \
	"${cflags[@]}" "$lib/libguestmem.a" || fail "the static C consumer does not build"
readelf -d "$D/consumer" | grep -q "NEEDED.*\[libguestmem.so.$MAJOR\]" ||
	fail "the consumer does not need libguestmem.so.$MAJOR"
for c in consumer consumer++ consumer-static; do
	LD_LIBRARY_PATH=$lib "$D/$c" || fail "$c exited with $?"
done
ok "C, C++ and static consumers built with pkg-config --cflags --libs guestmem and ran"

# 5. The module.
if [ -n "$module" ]; then
	ko=/lib/modules/$krel/extra/kmod/guestmem.ko
	info=$(modinfo "$D/root$ko")
	echo "$info" | grep -qx "version: *$VERSION" || fail "modinfo: no version $VERSION"
	depmod -b "$D/root" "$krel" 2>/dev/null || fail "depmod"
	for a in char-major-10-248 devname:guestmem net-pf-16-proto-16-family-guestmem; do
		echo "$info" | grep -qx "alias: *$a" || fail "modinfo: no alias $a"
		[ "$(modprobe -d "$D/root" -S "$krel" -R "$a")" = guestmem ] ||
			fail "modprobe -R $a does not resolve to guestmem"
	done
	# What kmod static-nodes reads: module, node name, c<major>:<minor>.
	grep -qx 'guestmem guestmem c10:248' "$D/root/lib/modules/$krel/modules.devname" ||
		fail "modules.devname has no /dev/guestmem"
	rm -f "$D/root/lib/modules/$krel"/modules.*
	ok "$ko: version $VERSION, aliases resolved by depmod and modprobe -R, /dev/guestmem in modules.devname"
fi

# 6. Uninstall.
if [ -n "$module" ]; then
	$M uninstall >"$D/uninstall.log" 2>&1 || { cat "$D/uninstall.log"; fail "make uninstall"; }
else
	$M uninstall-user >"$D/uninstall.log" 2>&1 || { cat "$D/uninstall.log"; fail "make uninstall-user"; }
fi
left=$(cd "$D/root" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removed every file"
