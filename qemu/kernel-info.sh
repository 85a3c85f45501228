#!/bin/bash
# Resolve a kernel name (6.1, 6.12, debug) to the files the build and the
# VM need, printed as shell assignments for eval:
#   KVER     the kernel release (uname -r in the guest)
#   KDIR     the tree out-of-tree modules build against
#   VMLINUZ  the kernel image QEMU boots
#   MODDIR   the kernel's own modules (empty: all built in)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

newest_release() {	# $1: glob for /lib/modules entries
	local r
	# shellcheck disable=SC2086
	r=$(cd /lib/modules && ls -d $1 2>/dev/null | sort -V | tail -1)
	[ -n "$r" ] || { echo "kernel-info: no kernel matching $1 installed (run 'make deps')" >&2; exit 1; }
	echo "$r"
}

case "${1:-}" in
6.1)	kver=$(newest_release '6.1.0-*-amd64')
	echo "KVER=$kver KDIR=/lib/modules/$kver/build VMLINUZ=/boot/vmlinuz-$kver MODDIR=/lib/modules/$kver" ;;
6.12)	kver=$(newest_release '6.12.*+deb12-amd64')
	echo "KVER=$kver KDIR=/lib/modules/$kver/build VMLINUZ=/boot/vmlinuz-$kver MODDIR=/lib/modules/$kver" ;;
debug)	dir=$("$top/qemu/build-debug-kernel.sh" --print-dir)
	kver=$(cat "$dir/include/config/kernel.release")
	echo "KVER=$kver KDIR=$dir VMLINUZ=$dir/arch/x86/boot/bzImage MODDIR="
	;;
*)	echo "kernel-info: unknown kernel '${1:-}': expected 6.1, 6.12 or debug" >&2; exit 2 ;;
esac
