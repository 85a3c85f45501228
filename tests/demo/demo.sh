#!/bin/sh
# make demo: the main job, narrated, inside the test VM.  Every step shown
# here is something the module really does at this version.
. /tests/vm/lib.sh

say() { printf '\n== %s\n' "$*"; }
run() { printf '   $ %s\n' "$*"; sh -c "$*" 2>&1 | sed 's/^/     /'; }
steps=0
fail() { echo "DEMO FAILED: $*"; exit 1; }

LEN=$(sectors $ORIGIN)
say "dm-cowsnap $(cat /sys/module/dm_cowsnap/version) on Linux $(uname -r)"
echo "   origin: $ORIGIN, a $((LEN / 2048)) MiB virtio disk: the device we snapshot"
echo "   store:  $STORE, a separate $(( $(sectors $STORE) / 2048 )) MiB virtio disk for the exceptions"
run "dmsetup targets | grep cowsnap"

say "Put some data on the origin"
random_file /tmp/orig 4096
dd if=/tmp/orig of=$ORIGIN bs=1M count=4 conv=fsync 2>/dev/null
echo "   4 MiB of random data, md5 $(md5sum </tmp/orig | cut -c1-32)"

say "Load the two views with plain dmsetup tables (copy-on-write mode, 4 KiB chunks)"
run "dmsetup create demo-live --table '0 $LEN cowsnap $ORIGIN $STORE cow 8 live'"
run "dmsetup create demo-snap --table '0 $LEN cowsnap $ORIGIN $STORE cow 8 snap'"
dmsetup mknodes
run "dmsetup table demo-live; dmsetup table demo-snap"
echo "   (the table prints back exactly, with devices as major:minor)"
steps=$((steps + 1))

say "Status: <mode> <view> <state> <used_chunks> <total_chunks> <metadata_blocks> <reason>"
run "dmsetup status demo-live; dmsetup status demo-snap"
echo "   State 'passthrough': this version does not use the store yet; the"
echo "   live view passes I/O to the origin, the snapshot view reads the origin."
steps=$((steps + 1))

say "Write through the live view"
random_file /tmp/new 1024
dd if=/tmp/new of=/dev/mapper/demo-live bs=1M count=1 seek=1 conv=fsync 2>/dev/null
echo "   wrote 1 MiB at offset 1 MiB, md5 $(md5sum </tmp/new | cut -c1-32)"
echo "   live view at 1 MiB:  $(read_range /dev/mapper/demo-live 2048 2048 | md5sum | cut -c1-32)"
echo "   origin at 1 MiB:     $(read_range $ORIGIN 2048 2048 | md5sum | cut -c1-32)"
same_range /dev/mapper/demo-live 2048 $ORIGIN 2048 2048 || fail "live view and origin differ"
same_range /tmp/new 0 $ORIGIN 2048 2048 || fail "origin does not hold the write"
echo "   The write reached the origin: the snapshot view does not freeze data"
echo "   yet (copy-on-write lands with the next capability)."
steps=$((steps + 1))

say "The snapshot view refuses writes"
if dd if=/dev/zero of=/dev/mapper/demo-snap bs=4096 count=1 oflag=direct 2>/dev/null; then
	fail "the snapshot view took a write"
fi
echo "   dd to /dev/mapper/demo-snap failed with an I/O error, origin untouched"
steps=$((steps + 1))

say "Bad tables are refused with a precise error"
dmesg -c >/dev/null
run "dmsetup create demo-bad --table '0 $LEN cowsnap $ORIGIN $STORE cow 12 live'"
echo "   kernel: $(dmesg | grep -o 'cowsnap: .*' | head -1)"
dmesg -c >/dev/null
run "dmsetup create demo-bad --table '0 $LEN cowsnap $ORIGIN $STORE row 8 snap'"
echo "   kernel: $(dmesg | grep -o 'cowsnap: .*' | head -1)"
echo "   (the store is already loaded in cow mode: the two views must agree)"
steps=$((steps + 1))

say "Tear down"
run "dmsetup remove demo-snap && dmsetup remove demo-live && dmsetup ls"
steps=$((steps + 1))

say "Demo done: $steps steps shown"
echo "   Shown: both views loaded from dmsetup tables, the table round trip,"
echo "   status, a write through the live view landing on the origin, the"
echo "   snapshot view refusing writes, and malformed tables refused."
echo "   Not shown, because the module does not do it yet: freezing the"
echo "   snapshot (CoW), redirect-on-write, the persistent store."
