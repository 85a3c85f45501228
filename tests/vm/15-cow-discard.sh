#!/bin/sh
# Discards of a copy-on-write live view.  The origin is a loop device on
# tmpfs, which punches a hole for a discard (it then reads zeroes), so
# where a discard went shows in the data:
# - a chunk whose exception has settled is discarded on the origin;
# - a chunk without an exception keeps its data: the snapshot needs it;
# - the snapshot view stays bit-exact throughout;
# - fstrim of ext4 on the live view leaves the snapshot's filesystem
#   clean, every file matching its checksum.
. /tests/vm/lib.sh
plan 27

MB=16
LEN=$((MB * 2048))
CH=4096		# chunk bytes (8 sectors)
mkdir -p /mnt/tmpfs /mnt/live /mnt/snap
must "tmpfs for the loop origin" mount -t tmpfs -o size=96m tmpfs /mnt/tmpfs
dd if=/dev/urandom of=/mnt/tmpfs/origin bs=1M count=$MB 2>/dev/null
cp /mnt/tmpfs/origin /tmp/ref
cp /mnt/tmpfs/origin /tmp/expected
LOOP=$(/sbin/losetup -f --show /mnt/tmpfs/origin)
random_file /tmp/rand 2048
qmax() { cat "/sys/block/$1/queue/discard_max_bytes"; }
dmq() { qmax "dm-$(dmsetup info -c --noheadings -o minor "$1")"; }
check "the loop origin takes discards" test "$(qmax "$(basename "$LOOP")")" -gt 0

wipe_store $STORE
must "live view created" dm_create cs_live "0 $LEN cowsnap $LOOP $STORE cow 8 live"
must "snapshot view created" dm_create cs_snap "0 $LEN cowsnap $LOOP $STORE cow 8 snap"
check "the live view takes discards" test "$(dmq cs_live)" -gt 0
is "the snapshot view takes none" "$(dmq cs_snap)" 0
# Chunks used: a fresh store's, then 2 more for the first exception
# block (a ping-pong pair of 4 KiB blocks) and one per exception.
U0=$(cowsnap_field cs_live 4)
U=$((U0 + 2 + 45))

# Whole chunks written through the live view: these get exceptions.
# put CHUNK COUNT: write COUNT chunks at CHUNK, in the device and in
# /tmp/expected (from the 512 chunks of /tmp/rand).
put() {
	dd if=/tmp/rand of=/dev/mapper/cs_live bs=$CH skip=$(($1 % 480)) seek="$1" count="$2" conv=notrunc,fsync 2>/dev/null &&
	dd if=/tmp/rand of=/tmp/expected bs=$CH skip=$(($1 % 480)) seek="$1" count="$2" conv=notrunc 2>/dev/null
}
# zero CHUNK COUNT: what a discard that reached the origin leaves.
zero() { dd if=/dev/zero of=/tmp/expected bs=$CH seek="$1" count="$2" conv=notrunc 2>/dev/null; }
bad=0
for w in "0 3" "10 1" "100 32" "200 8" "4095 1"; do
	# shellcheck disable=SC2086
	put $w || bad=1
done
is "45 chunks written to the live view" "$bad" 0
is "45 exceptions in the store" "$(cowsnap_field cs_live 4)" $U

# Discards of chunks without exceptions: nothing changes.
must "discard of chunks 5..7 (no exception)" blkdiscard -o $((5 * CH)) -l $((3 * CH)) /dev/mapper/cs_live
must "discard of 1000 sectors at sector 12345 (no exception)" blkdiscard -o $((12345 * 512)) -l $((1000 * 512)) /dev/mapper/cs_live
check "live view unchanged by them" same_dev /dev/mapper/cs_live /tmp/expected $LEN
is "no exception added by a discard" "$(cowsnap_field cs_live 4)" $U

# A discard of copied chunks reaches the origin.
must "discard of chunks 100..107 (exceptions)" blkdiscard -o $((100 * CH)) -l $((8 * CH)) /dev/mapper/cs_live
zero 100 8
check "those chunks are discarded on the origin" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "snapshot view equals the reference image" same_dev /dev/mapper/cs_snap /tmp/ref $LEN

# One discard of the whole device, runs of both kinds in one bio.
must "discard of the whole live view" blkdiscard /dev/mapper/cs_live
for w in "0 3" "10 1" "100 32" "200 8" "4095 1"; do
	# shellcheck disable=SC2086
	zero $w
done
check "exactly the copied chunks are discarded" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "snapshot view still equals the reference image" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
is "status after the discards" "$(dmsetup status cs_live | cut -d' ' -f4-7)" "cow live valid $U"

dmsetup remove cs_snap
dmsetup remove cs_live
/sbin/losetup -d "$LOOP"

# fstrim of ext4 on the live view.
# files PREFIX N: N files of 1 MiB in /mnt/live, checksums in /tmp/PREFIX.md5
files() {
	for i in $(seq "$2"); do random_file "/mnt/live/$1$i" 1024; done
	(cd /mnt/live && md5sum "$1"*) >"/tmp/$1.md5"
}
MB=32
LEN=$((MB * 2048))
rm -f /mnt/tmpfs/origin
dd if=/dev/zero of=/mnt/tmpfs/origin bs=1M count=$MB 2>/dev/null
LOOP=$(/sbin/losetup -f --show /mnt/tmpfs/origin)
/sbin/mke2fs -q -t ext4 -b 4096 "$LOOP"
mount -t ext4 "$LOOP" /mnt/live
files old 8
umount /mnt/live
wipe_store $STORE
must "views over the ext4 origin" dm_create cs_live "0 $LEN cowsnap $LOOP $STORE cow 8 live"
must "snapshot view over the ext4 origin" dm_create cs_snap "0 $LEN cowsnap $LOOP $STORE cow 8 snap"
must "live filesystem mounted" mount -t ext4 /dev/mapper/cs_live /mnt/live
rm -f /mnt/live/old*
files new 4
sync
must "fstrim of the live filesystem" fstrim /mnt/live
umount /mnt/live
check "the snapshot's filesystem is clean (e2fsck -n)" fsck_clean /dev/mapper/cs_snap
mount -t ext4 -o ro /dev/mapper/cs_snap /mnt/snap
check "every file of the snapshot matches its checksum" sh -c 'cd /mnt/snap && md5sum -c -s /tmp/old.md5'
umount /mnt/snap
check "the live filesystem is clean (e2fsck -n)" fsck_clean /dev/mapper/cs_live
mount -t ext4 -o ro /dev/mapper/cs_live /mnt/live
check "every new file of the live view matches its checksum" sh -c 'cd /mnt/live && md5sum -c -s /tmp/new.md5'
umount /mnt/live

dmsetup remove cs_snap
dmsetup remove cs_live
/sbin/losetup -d "$LOOP"
umount /mnt/tmpfs
finish
