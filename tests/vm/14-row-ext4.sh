#!/bin/sh
# ext4 in redirect-on-write mode: snapshot, change files, roll back: the
# filesystem is exactly the snapshot's; change again, fold: the origin
# device alone holds the new files.
. /tests/vm/lib.sh
plan 12

OLEN=131072		# 64 MiB
wipe_store $STORE
dm_create cs_o "0 $OLEN linear $ORIGIN 0"
O=/dev/mapper/cs_o
must "ext4 made on the origin" /sbin/mke2fs -q -t ext4 -F $O
mkdir -p /mnt/live
mount -t ext4 $O /mnt/live
i=1
while [ $i -le 16 ]; do
	dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 53)) 2>/dev/null
	i=$((i + 1))
done
(cd /mnt/live && md5sum f* >/tmp/sums)
umount /mnt/live
dd if=$O of=/tmp/origin.img bs=1M count=64 2>/dev/null
views() { views_up row $O $STORE 8 $OLEN; }
change() {	# the live filesystem changes: rewrites, deletes, new files
	mount -t ext4 /dev/mapper/cs_live /mnt/live || return 1
	i=1
	while [ $i -le 8 ]; do
		dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 31)) conv=notrunc 2>/dev/null
		i=$((i + 1))
	done
	rm -f /mnt/live/f9 /mnt/live/f10
	dd if=/dev/urandom of=/mnt/live/new$1 bs=1M count=4 2>/dev/null
	(cd /mnt/live && md5sum f* new* >/tmp/sums.new)
	umount /mnt/live
}
must "row snapshot of the filesystem" views
must "live filesystem changed" change 1
check "origin untouched by the changes" same_dev $O /tmp/origin.img $OLEN
must "rollback" dmsetup message cs_live 0 rollback
check "live view is exactly the snapshot's filesystem" same_dev /dev/mapper/cs_live /tmp/origin.img $OLEN
mount -t ext4 /dev/mapper/cs_live /mnt/live
check "every file is back, checksums match" sh -c "cd /mnt/live && md5sum -c /tmp/sums >/dev/null && [ ! -e new1 ]"
umount /mnt/live
must "changed again" change 2
must "fold" dmsetup message cs_live 0 fold
check "fold ends" wait_state cs_live ended
dmsetup remove cs_snap && dmsetup remove cs_live
check "e2fsck -n of the origin alone is clean" fsck_clean $O
mount -t ext4 -o ro $O /mnt/live
check "the origin alone holds the new files" sh -c "cd /mnt/live && md5sum -c /tmp/sums.new >/dev/null && [ ! -e f9 ]"
umount /mnt/live
dmsetup remove cs_o
finish
