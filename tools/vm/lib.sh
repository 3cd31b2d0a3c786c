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

# bookworm-backports through a private apt state: the machine's sources,
# lists and caches are never touched.
BPO=$CACHE/apt-bpo
bpo_apt() {
	mkdir -p "$BPO/lists/partial" "$BPO/cache/archives/partial"
	[ -f "$BPO/sources.list" ] ||
		echo "deb http://deb.debian.org/debian bookworm-backports main" >"$BPO/sources.list"
	"$@" -o Dir::Etc::sourcelist="$BPO/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$BPO/lists" -o Dir::Cache="$BPO/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
}

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
