#!/bin/bash
# Build the test VM's initramfs for a named kernel (6.1, 6.12, debug).
#
# It holds busybox-static, dmsetup, fio, e2fsprogs, kmod, util-linux's
# losetup, GNU cmp and dd, the cowsnap tool, lw-replay (the crash
# scenario's log replayer), mkstore (store images), the test scripts,
# the libraries they load, the kernel modules the tests use and
# dm-cowsnap built for that kernel (qemu/build-module.sh must have run).
# Written uncompressed, which every kernel here unpacks and TCG unpacks
# fastest.
#
# Usage: mkinitramfs.sh <kernel> <output.cpio>
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:?usage: mkinitramfs.sh <kernel> <out>}
out=${2:?usage: mkinitramfs.sh <kernel> <out>}
eval "$("$top/qemu/kernel-info.sh" "$k")"
# Staged next to the output, so that VMs of one kernel booted side by side
# (make check's lanes) never share a staging tree.
stage="$out.d"

# Binaries copied with their libraries, at their host paths.
bins=(/usr/sbin/dmsetup /usr/bin/fio /sbin/mke2fs /sbin/e2fsck /sbin/debugfs
      /usr/bin/kmod /sbin/losetup /sbin/blkid /usr/bin/cmp
      /usr/bin/dd)
# Kernel modules the tests use (built in on the debug kernel).
mods=(virtio_pci virtio_blk dm_mod dm_bufio dm_snapshot dm_thin_pool dm_flakey
      dm_delay dm_log_writes dm_zero brd loop ext4 crc32c_generic
      libcrc32c)

rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,mnt,root,lib64}
cp /bin/busybox "$stage/bin/busybox"

copy_with_libs() {	# binary [path in the initramfs]
	local lib
	cp -L "$1" "$stage${2:-$1}"
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
# COWSNAP_EXTRA_BINS: more host binaries for the VM (say /usr/bin/perf
# to profile inside the guest).
# shellcheck disable=SC2206
bins+=(${COWSNAP_EXTRA_BINS:-})
for f in "${bins[@]}"; do copy_with_libs "$f"; done
ln -s /usr/bin/kmod "$stage/sbin/modprobe"
ln -s /usr/bin/kmod "$stage/sbin/insmod"
ln -s /usr/bin/kmod "$stage/sbin/rmmod"
ln -s /usr/bin/kmod "$stage/sbin/lsmod"
ln -s mke2fs "$stage/sbin/mkfs.ext4"
cp /etc/mke2fs.conf "$stage/etc/"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

# The crash scenario's dm-log-writes replayer, built for the host's libc.
cc -O2 -Wall -Wextra -Werror -I"$top/userspace" -o "$out.lw-replay" \
	"$top/tests/vm/lw-replay.c" "$top/userspace/fdio.c"
copy_with_libs "$out.lw-replay" /usr/bin/lw-replay
rm -f "$out.lw-replay"
# The store-image fixture (userspace/tests/mkstore.c), for stores made
# as an earlier format wrote them.
cc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$top/userspace" \
	-I"$top/dm-cowsnap" -o "$out.mkstore" "$top/userspace/tests/mkstore.c" \
	"$top/dm-cowsnap/cowsnap-format.c" "$top/userspace/crc32c.c"
copy_with_libs "$out.mkstore" /usr/bin/mkstore
rm -f "$out.mkstore"

if [ -x "$top/userspace/cowsnap" ]; then
	copy_with_libs "$top/userspace/cowsnap" /usr/sbin/cowsnap
fi

# Kernel modules, then depmod over the staged tree.
mdir="$stage/lib/modules/$KVER"
mkdir -p "$mdir/extra"
if [ -n "$MODDIR" ]; then
	for m in "${mods[@]}"; do
		deps=$(modprobe -S "$KVER" --show-depends "$m") || {
			echo "mkinitramfs: no module $m for $KVER" >&2
			exit 1
		}
		awk '$1 == "insmod" {print $2}' <<<"$deps"
	done | sort -u | while read -r path; do
		mkdir -p "$stage$(dirname "$path")"
		cp "$path" "$stage$path"
	done
	cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$mdir/"
else
	cp "$KDIR"/modules.{order,builtin,builtin.modinfo} "$mdir/"
fi
# shellcheck source=qemu/kernel-stamp.sh
. "$top/qemu/kernel-stamp.sh"
if [ "$(cat "$top/build/mod/$k/kernel.stamp" 2>/dev/null)" != "$(kernel_stamp "$KDIR")" ]; then
	echo "mkinitramfs: build/mod/$k was not built for this $k kernel ($KDIR):" \
		"run qemu/build-module.sh $k" >&2
	exit 1
fi
cp "$top/build/mod/$k"/dm-cowsnap/*.ko "$mdir/extra/"
depmod -b "$stage" "$KVER"

# Guest init and the tests.
cp "$top/qemu/guest/init" "$stage/init"
chmod +x "$stage/init"
mkdir -p "$stage/tests"
cp -r "$top/tests/vm" "$stage/tests/"
cp -r "$top/tests/demo" "$top/tests/bench" "$stage/tests/"
echo "$k" >"$stage/etc/cowsnap-kernel"

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
rm -rf "$stage"
