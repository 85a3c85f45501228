#!/bin/sh
# ext4 on the origin: snapshot a mounted filesystem with writes running
# (the LVM way: suspend the volume, stack the live view under its name,
# resume), keep changing the live filesystem, then check the snapshot:
# e2fsck -n is clean and every file matches the checksum taken before.
. /tests/vm/lib.sh
plan 12

OLEN=131072		# 64 MiB
wipe_store $STORE
must "volume created" dm_create vol "0 $OLEN linear $ORIGIN 0"
must "ext4 made" /sbin/mke2fs -q -t ext4 -F /dev/mapper/vol
mkdir -p /mnt/live /mnt/snap
must "ext4 mounted" mount -t ext4 /dev/mapper/vol /mnt/live
i=1
while [ $i -le 24 ]; do
	dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 37)) 2>/dev/null
	i=$((i + 1))
done
mkdir /mnt/live/dir && cp /mnt/live/f1* /mnt/live/dir/
(cd /mnt/live && md5sum f* dir/* >/tmp/sums)
sync

# A writer keeps the filesystem busy while the snapshot is taken.
(while :; do dd if=/dev/urandom of=/mnt/live/busy bs=4k count=16 conv=fsync 2>/dev/null; done) &
busy=$!
sleep 1
take_snapshot() {
	dmsetup suspend vol &&
	dm_create vol-real "0 $OLEN linear $ORIGIN 0" &&
	dmsetup load vol --table "0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 live" &&
	dm_create vol-snap "0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 snap" &&
	dmsetup resume vol
}
must "snapshot taken under a mounted, busy filesystem" take_snapshot

# Keep changing the live filesystem.
i=1
while [ $i -le 12 ]; do
	dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 41)) conv=notrunc 2>/dev/null
	i=$((i + 1))
done
rm -f /mnt/live/f13 /mnt/live/f14 /mnt/live/dir/f10
dd if=/dev/urandom of=/mnt/live/new bs=1M count=8 2>/dev/null
kill $busy
wait $busy 2>/dev/null
sync
check "live filesystem changed" sh -c "! (cd /mnt/live && md5sum -c /tmp/sums >/dev/null 2>&1)"
is "snapshot is valid" "$(cowsnap_field vol-snap 3)" "valid"
check "e2fsck -n of the snapshot view is clean" fsck_clean /dev/mapper/vol-snap
check "snapshot mounts read-only" mount -t ext4 -o ro /dev/mapper/vol-snap /mnt/snap
check "every file of the snapshot matches its checksum" sh -c "cd /mnt/snap && md5sum -c /tmp/sums >/dev/null"
check "deleted files are still in the snapshot" test -f /mnt/snap/f13 -a -f /mnt/snap/dir/f10
check "files made later are not" test ! -e /mnt/snap/new
umount /mnt/snap
umount /mnt/live
check "e2fsck -n of the live view is clean" fsck_clean /dev/mapper/vol
dmsetup remove vol-snap
dmsetup remove vol
dmsetup remove vol-real
finish
