# SPDX-License-Identifier: GPL-2.0
# Debian's linux-source-6.1, downloaded (not installed) into the cache.
# Source after lib.sh.

# Print the path of the cached linux-source-6.1.tar.xz, fetching it if needed.
linux_source_tarball() {
	local dir=$CACHE/linux-source
	local tarball
	tarball=$(ls "$dir"/usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
	if [ -z "$tarball" ]; then
		msg "downloading linux-source-6.1"
		apt_update_once
		rm -rf "$dir"
		fetch_deb linux-source-6.1 "$CACHE/dl" "$dir"
		tarball=$dir/usr/src/linux-source-6.1.tar.xz
	fi
	echo "$tarball"
}

# Print the directory of the whole extracted tree (for the debug kernel).
linux_source_tree() {
	local tarball tree
	tarball=$(linux_source_tarball)
	tree=$CACHE/linux-source-6.1
	if [ ! -f "$tree/.extracted" ]; then
		msg "extracting the 6.1 source tree"
		rm -rf "$tree"
		tar -xJf "$tarball" -C "$CACHE" || die "extracting $tarball failed"
		touch "$tree/.extracted"
	fi
	echo "$tree"
}
