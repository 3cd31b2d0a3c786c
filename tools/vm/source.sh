# SPDX-License-Identifier: GPL-2.0
# Debian's linux-source-<version>, downloaded (not installed) into the cache.
# Source after lib.sh.
#
#	6.1   bookworm's linux-source-6.1 (kselftest headers, checkpatch)
#	7.3   trixie-backports' linux-source-7.3 (the debug and arm64 kernels),
#	      through a private apt state (tbpo_apt in lib.sh)

# The apt wrapper that reaches linux-source-$1 ("" for the machine's own).
linux_source_apt() {
	case "$1" in
	6.1) echo "" ;;
	7.3) echo tbpo_apt ;;
	*) die "no Debian source package known for Linux $1" ;;
	esac
}

# Print the path of the cached linux-source-$1.tar.xz (default 6.1),
# fetching it if needed.  Every version's tarball sits in the same
# directory, $CACHE/linux-source/usr/src.
linux_source_tarball() {
	local ver=${1:-6.1} dir=$CACHE/linux-source apt
	local tarball=$dir/usr/src/linux-source-$ver.tar.xz
	if [ ! -f "$tarball" ]; then
		apt=$(linux_source_apt "$ver")
		msg "downloading linux-source-$ver"
		if [ -n "$apt" ]; then tbpo_update_daily; else apt_update_once; fi
		# Download and unpack beside it, then move the tarball in: a run
		# that stops half way leaves no truncated tarball behind.
		local tmp=$CACHE/linux-source.tmp.$$
		rm -rf "$tmp"
		fetch_deb "linux-source-$ver" "$CACHE/dl" "$tmp" $apt
		mkdir -p "$dir/usr/src"
		mv "$tmp/usr/src/linux-source-$ver.tar.xz" "$tarball" ||
			die "linux-source-$ver holds no linux-source-$ver.tar.xz"
		rm -rf "$tmp"
		# The .deb is no longer needed: the tarball is the cache.
		rm -f "$CACHE/dl/linux-source-${ver}_"*.deb
	fi
	echo "$tarball"
}

# Print the directory of the whole extracted tree of linux-source-$1.
linux_source_tree() {
	local ver=${1:-6.1} tarball tree
	tarball=$(linux_source_tarball "$ver")
	tree=$CACHE/linux-source-$ver
	if [ ! -f "$tree/.extracted" ]; then
		msg "extracting the $ver source tree"
		rm -rf "$tree"
		tar -xJf "$tarball" -C "$CACHE" || die "extracting $tarball failed"
		touch "$tree/.extracted"
	fi
	echo "$tree"
}
