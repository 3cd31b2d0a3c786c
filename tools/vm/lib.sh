# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the guestmem VM tooling.  Source it; it sets TOP and CACHE.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${GUESTMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/guestmem}
mkdir -p "$CACHE"

msg() { printf '[guestmem] %s\n' "$*" >&2; }
die() { printf '[guestmem] error: %s\n' "$*" >&2; exit 1; }

# Run as root or through sudo: the runner installs packages with apt-get.
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get update at most once an hour (apt-cache needs fresh lists too).
apt_update_once() {
	local stamp=$CACHE/apt-updated
	if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		msg "apt-get update"
		as_root apt-get update -q >/dev/null || die "apt-get update failed"
		touch "$stamp"
	fi
}

# Install the named Debian packages that are not installed yet.
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	apt_update_once
	msg "apt-get install ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# Another suite or architecture through a private apt state under
# $CACHE/$1: the machine's sources, lists, caches and dpkg architectures are
# never touched.  $2 is the sources.list line, $3.. the apt command, which
# may carry further -o options.
private_apt() {
	local dir=$CACHE/$1 line=$2
	shift 2
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	[ -f "$dir/sources.list" ] && [ "$(cat "$dir/sources.list")" = "$line" ] ||
		echo "$line" >"$dir/sources.list"
	"$@" -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
}

# Refresh a private apt state at most once a day: private_update NAME WRAPPER.
private_update() {
	local stamp=$CACHE/$1/updated
	[ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ] && return 0
	msg "apt-get update ($1, private state)"
	"$2" apt-get update -q >/dev/null || die "apt-get update for $1 failed"
	touch "$stamp"
}

# bookworm-backports (the 6.12 kernel).
bpo_apt() {
	private_apt apt-bpo "deb http://deb.debian.org/debian bookworm-backports main" "$@"
}

# trixie-backports (linux-source-7.3).  bookworm's apt does not know trixie's
# key by default: name the archive keyring.
tbpo_apt() {
	private_apt apt-trixie-bpo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main" "$@"
}
tbpo_update_daily() { private_update apt-trixie-bpo tbpo_apt; }

# bookworm's arm64 packages (busybox-static, libmnl for the arm64 guest),
# for download only: APT::Architecture here, not a dpkg foreign architecture.
arm64_apt() {
	private_apt apt-arm64 "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
		"$@" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
}
arm64_update_daily() { private_update apt-arm64 arm64_apt; }

# Download a .deb (by name, or name=version) into $2 and extract it into $3.
fetch_deb() {
	local pkg=$1 dl=$2 dest=$3 apt=${4:-}
	mkdir -p "$dl" "$dest"
	(cd "$dl" && $apt apt-get download -q "$pkg" >/dev/null 2>&1) ||
		die "apt-get download $pkg failed"
	local deb
	deb=$(ls -t "$dl"/"${pkg%%=*}"_*.deb | head -n 1)
	dpkg-deb -x "$deb" "$dest" || die "dpkg-deb -x $deb failed"
}

# Print a directory holding what the arm64 guest and the cross build take
# from Debian's arm64 packages, unpacked (never installed): busybox-static
# (bin/busybox) and libmnl (usr/include, usr/lib/aarch64-linux-gnu) for gmem.
arm64_root() {
	local dir=$CACHE/arm64-root p
	if [ ! -f "$dir/.unpacked" ]; then
		msg "fetching arm64 busybox-static and libmnl (bookworm, private apt state)"
		arm64_update_daily
		rm -rf "$dir"
		for p in busybox-static libmnl0 libmnl-dev; do
			fetch_deb "$p" "$CACHE/dl-arm64" "$dir" arm64_apt
		done
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}
