#!/bin/sh
# make demo: the main job, narrated, inside the test VM.  Every step shown
# here is something the module really does at this version.
. /tests/vm/lib.sh

say() { printf '\n== %s\n' "$*"; }
# run CMD: show a command, run it, show its output indented; its status.
run() {
	printf '   $ %s\n' "$*"
	sh -c "$*" >/tmp/demo.out 2>&1
	r=$?
	sed 's/^/     /' /tmp/demo.out
	dmsetup mknodes
	return $r
}
md5() { md5sum | cut -c1-32; }
fail() { echo "DEMO FAILED: $*"; exit 1; }
steps=0
step() { steps=$((steps + 1)); }

OLEN=65536	# 32 MiB
say "dm-cowsnap $(cat /sys/module/dm_cowsnap/version) on Linux $(uname -r)"
echo "   origin: a 32 MiB slice of $ORIGIN (a virtio disk), named 'vol'"
echo "   store:  $STORE, a separate virtio disk that will hold the exceptions"
wipe_store $STORE
dm_create vol "0 $OLEN linear $ORIGIN 0" || fail "cannot create vol"

say "An ext4 filesystem on the origin, mounted, with a file in it"
/sbin/mke2fs -q -t ext4 -F /dev/mapper/vol || fail "mke2fs"
mkdir -p /mnt/live /mnt/snap
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount"
echo "version 1: the original report" >/mnt/live/report.txt
dd if=/dev/urandom of=/mnt/live/data.bin bs=1M count=4 2>/dev/null
sync
echo "   report.txt: $(cat /mnt/live/report.txt)"
echo "   data.bin:   4 MiB, md5 $(md5 </mnt/live/data.bin)"
orig_data=$(md5 </mnt/live/data.bin)
step

say "Take a copy-on-write snapshot of the mounted filesystem (4 KiB chunks)"
echo "   The LVM way: suspend 'vol' (the filesystem is frozen), put the live"
echo "   view under its name, add the snapshot view, resume."
run "dmsetup suspend vol" || fail "step failed"
run "dmsetup create vol-real --table '0 $OLEN linear $ORIGIN 0'" || fail "step failed"
run "dmsetup load vol --table '0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 live'" || fail "step failed"
run "dmsetup create vol-snap --table '0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 snap'" || fail "step failed"
run "dmsetup resume vol" || fail "step failed"
dmsetup mknodes
run "dmsetup table vol; dmsetup table vol-snap"
echo "   The filesystem stayed mounted throughout."
step

say "Status: <mode> <view> <state> <used_chunks> <total_chunks> <metadata_blocks> <reason>"
run "dmsetup status vol-snap"
step

say "Change the live filesystem"
echo "version 2: rewritten after the snapshot" >/mnt/live/report.txt
dd if=/dev/urandom of=/mnt/live/data.bin bs=1M count=4 conv=notrunc 2>/dev/null
echo "a file made after the snapshot" >/mnt/live/new.txt
sync
echo "   live report.txt: $(cat /mnt/live/report.txt)"
echo "   live data.bin:   md5 $(md5 </mnt/live/data.bin)"
run "dmsetup status vol-snap"
echo "   The first write to each chunk copied its old data into the store."
step

say "Look at the snapshot view: the filesystem as it was"
run "/sbin/e2fsck -n -f /dev/mapper/vol-snap | tail -1"
mount -t ext4 -o ro /dev/mapper/vol-snap /mnt/snap || fail "cannot mount the snapshot"
echo "   snapshot report.txt: $(cat /mnt/snap/report.txt)"
echo "   snapshot data.bin:   md5 $(md5 </mnt/snap/data.bin)"
[ "$(md5 </mnt/snap/data.bin)" = "$orig_data" ] || fail "snapshot data.bin changed"
[ -e /mnt/snap/new.txt ] && fail "new.txt is in the snapshot"
echo "   new.txt in the snapshot: absent (made later)"
umount /mnt/snap
step

say "Reactivate: tear both views down, load them again over the same store"
umount /mnt/live
run "dmsetup remove vol-snap && dmsetup remove vol" || fail "step failed"
run "dmsetup create vol --table '0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 live'" || fail "step failed"
run "dmsetup create vol-snap --table '0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 8 snap'" || fail "step failed"
dmsetup mknodes
mount -t ext4 -o ro /dev/mapper/vol-snap /mnt/snap || fail "cannot mount the snapshot"
echo "   snapshot report.txt after reactivation: $(cat /mnt/snap/report.txt)"
[ "$(md5 </mnt/snap/data.bin)" = "$orig_data" ] || fail "snapshot lost data"
umount /mnt/snap
mount -t ext4 -o ro /dev/mapper/vol /mnt/live || fail "cannot mount the live view"
echo "   live report.txt after reactivation:     $(cat /mnt/live/report.txt)"
umount /mnt/live
echo "   Every exception came back from the store."
step

say "A store made for another chunk size is refused, not reformatted"
dmsetup remove vol-snap && dmsetup remove vol
dmesg -c >/dev/null
run "dmsetup create bad --table '0 $OLEN cowsnap /dev/mapper/vol-real $STORE cow 16 live'" &&
	fail "a mismatched store was accepted"
echo "   kernel: $(dmesg | grep -o 'cowsnap: .*' | head -2 | tr '\n' ' ')"
step

say "The same with the cowsnap tool: snapshot, try a change, roll back"
echo "   cowsnap(8) builds the tables and runs the LVM-style steps itself:"
echo "   'vol' keeps its name and its mount, and becomes the live view."
dmsetup remove vol-real
wipe_store $STORE	# it still holds the first snapshot: the tool would refuse it
dm_create vol "0 $OLEN linear $ORIGIN 0" || fail "cannot create vol"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount"
before=$(cat /mnt/live/report.txt)
echo "   live report.txt: $before"
run "cowsnap create /dev/mapper/vol $STORE" || fail "step failed"
run "cowsnap status vol"
echo "a risky change" >/mnt/live/report.txt
rm /mnt/live/data.bin
sync
echo "   after the change: report.txt '$(cat /mnt/live/report.txt)', data.bin removed"
echo "   Roll back (copy-on-write: the store is copied back into the origin)."
echo "   As with LVM's merge, the filesystem is unmounted first."
umount /mnt/live
run "cowsnap rollback --wait vol" || fail "step failed"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount after the rollback"
echo "   report.txt after the rollback: $(cat /mnt/live/report.txt)"
[ "$(cat /mnt/live/report.txt)" = "$before" ] || fail "the rollback lost report.txt"
[ -e /mnt/live/data.bin ] || fail "the rollback lost data.bin"
echo "   data.bin is back, md5 $(md5 </mnt/live/data.bin)"
umount /mnt/live
run "cowsnap remove vol" || fail "step failed"
step

say "Redirect-on-write: the origin is never written; fold makes the changes its own"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount"
run "cowsnap create -m row /dev/mapper/vol $STORE" || fail "step failed"
origin_md5=$(dd if=/dev/mapper/vol-real bs=1M 2>/dev/null | md5)
echo "version 3: written through a row live view" >/mnt/live/report.txt
sync
echo "   live report.txt: $(cat /mnt/live/report.txt)"
[ "$(dd if=/dev/mapper/vol-real bs=1M 2>/dev/null | md5)" = "$origin_md5" ] ||
	fail "the origin was written"
echo "   the origin (vol-real) is unchanged: every write went to the store"
run "cowsnap status vol"
umount /mnt/live
echo "   Fold: copy the store into the origin, then the origin alone is vol."
run "cowsnap fold --wait vol && cowsnap remove vol" || fail "step failed"
run "dmsetup table vol"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount after the fold"
echo "   report.txt on the origin alone: $(cat /mnt/live/report.txt)"
grep -q 'version 3' /mnt/live/report.txt || fail "the fold lost the change"
umount /mnt/live
step

say "Redirect-on-write roll back is instant: the store is just dropped"
run "cowsnap create -m row /dev/mapper/vol $STORE" || fail "step failed"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount"
echo "a change to throw away" >/mnt/live/report.txt
sync
umount /mnt/live
run "cowsnap rollback vol" || fail "step failed"
mount -t ext4 /dev/mapper/vol /mnt/live || fail "mount after the rollback"
echo "   report.txt after the rollback: $(cat /mnt/live/report.txt)"
grep -q 'version 3' /mnt/live/report.txt || fail "the row rollback did not give the snapshot back"
umount /mnt/live
echo "   The snapshot stays; a fold copies only what was written since (here"
echo "   the blocks the mount itself wrote)."
run "cowsnap fold --wait vol && cowsnap remove vol" || fail "step failed"
run "/sbin/e2fsck -n -f /dev/mapper/vol | tail -1"
step

say "Check a store offline"
run "cowsnap check $STORE" || fail "step failed"
step

say "Tear down"
dmsetup remove vol
run "dmsetup ls"
step

say "Demo done: $steps steps shown"
echo "   Shown: a copy-on-write snapshot of a mounted ext4 filesystem taken"
echo "   with dmsetup, the live view changing while the snapshot view keeps"
echo "   the old files (e2fsck clean), reactivation from the store, a"
echo "   mismatched store refused; then with the cowsnap tool, on the same"
echo "   volume, mounted: try a change and roll it back (copy-on-write),"
echo "   redirect-on-write with the origin untouched until a fold, an"
echo "   instant redirect-on-write roll back, and an offline store check."
