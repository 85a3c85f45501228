#!/bin/bash
# Install what building and testing dm-cowsnap needs, from Debian's
# packages.  Idempotent, and silent when nothing is missing.
set -euo pipefail

# Packages that must be present, whatever their version.
pkgs=(
	make gcc bc flex bison libelf-dev libssl-dev cpio xz-utils kmod perl
	python3 pkg-config sparse
	linux-source-6.12 linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static fio e2fsprogs dmsetup util-linux
	libdevmapper-dev libblkid-dev gnuplot-nox
	clang dkms
)

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

apt_updated=0
apt_install() {
	if [ "$apt_updated" = 0 ]; then
		echo "deps: apt-get update" >&2
		apt-get update -q >/dev/null
		apt_updated=1
	fi
	echo "deps: installing $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"

# Debian's 6.12 kernel: an unsigned image with its headers.  Use one that
# is installed, or install the newest version that has both.  dpkg-query
# fails when no such package was ever known: that is "none" here.
have612=$({ dpkg-query -W -f='${Package} ${Status}\n' 'linux-image-6.12.*+deb12-amd64-unsigned' 2>/dev/null || true; } |
	awk '/install ok installed/ {print $1}' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -1)
if [ -z "$have612" ] || ! installed "linux-headers-$have612"; then
	[ "$apt_updated" = 1 ] || { apt-get update -q >/dev/null; apt_updated=1; }
	ver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		awk '{print $1}' | sed 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -1)
	[ -n "$ver" ] || { echo "deps: no linux-image-6.12.*+deb12-amd64-unsigned in apt" >&2; exit 1; }
	apt_install "linux-image-$ver-unsigned" "linux-headers-$ver"
fi
exit 0
