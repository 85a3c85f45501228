#!/bin/sh
# Redirect-on-write data path: the origin is never written; writes of
# many sizes and every alignment inside a chunk read back from the live
# view; the snapshot view is read-only and shows the origin; reactivation
# keeps everything; a read-only origin (a read-only loop device over an
# image file) works, and fold is refused there.  Exact comparisons only.
. /tests/vm/lib.sh
plan 31

if [ $SLOW = 1 ]; then MB=16 WRITES=20 FIOMB=4; else MB=64 WRITES=100 FIOMB=16; fi
wipe_store $STORE
origin_setup $MB
live_table() { echo "0 $LEN cowsnap $O $STORE row $1 live${2:+ $2}"; }
snap_table() { echo "0 $LEN cowsnap $O $STORE row $1 snap"; }

must "live view created on a blank store" dm_create cs_live "$(live_table 16)"
refused "a writable snapshot view" "Snapshot view of a row store is read-only: load it read-only" "$(snap_table 16)"
must "read-only snapshot view created" dm_create_ro cs_snap "$(snap_table 16)"
is "status right after creation" "$(dmsetup status cs_snap | cut -d' ' -f4-6,10-)" "row snap valid - - -"

# Every alignment and length inside one 8 KiB chunk, then chunk-crossing writes.
bad=0
for off in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	n=$((16 - off))
	write_both /dev/mapper/cs_live /tmp/expected /tmp/rand $((off * 64 + off * 16)) 1 || bad=1
	write_both /dev/mapper/cs_live /tmp/expected /tmp/rand $((4096 + off * 32 + off)) "$n" || bad=1
done
random_writes /dev/mapper/cs_live /tmp/expected /tmp/rand $WRITES 300 $LEN || bad=1
is "partial-chunk writes at every alignment and $WRITES writes of 1..300 sectors" "$bad" 0
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "origin is bit-exact: never written" same_dev $O $SCRATCH $LEN
check "snapshot view equals the origin" same_dev /dev/mapper/cs_snap $SCRATCH $LEN
check "a write to the read-only snapshot view fails" sh -c "! dd if=/tmp/rand of=/dev/mapper/cs_snap bs=4096 count=1 conv=fsync 2>/dev/null"
used=$(cowsnap_field cs_snap 4)
check "store holds the redirected chunks ($used used)" test "$used" -gt $WRITES

fio --name=live --filename=/dev/mapper/cs_live --rw=randwrite --bsrange=512-64k \
    --size=${FIOMB}M --direct=1 --ioengine=libaio --iodepth=8 \
    --verify=crc32c --randseed=42 --eta=never --output=/tmp/fio-live.txt &
fpid=$!
fio --name=snap --filename=/dev/mapper/cs_snap --rw=randread --bs=16k --readonly \
    --size=${MB}M --direct=1 --ioengine=psync --numjobs=2 --eta=never --output=/tmp/fio-snap.txt
snap_rc=$?
wait $fpid
is "fio verified writes (512 B..64 KiB) on the live view" "$?" 0
is "fio reads on the snapshot view" "$snap_rc" 0
dd if=/dev/mapper/cs_live of=/tmp/expected bs=1M count=$FIOMB 2>/dev/null conv=notrunc
check "origin still bit-exact after fio" same_dev $O $SCRATCH $LEN
is "no bio of either view left in flight by dm's accounting" "$(inflight cs_live cs_snap)" "0 0 0 0"

# FUA and flush: a synced write is readable after reactivation.  Its
# flush also commits what fio left uncommitted, so that the status
# compared below is the durable one (within the device: LEN is 32768
# sectors on the debug kernel).
must "a synced partial-chunk write near the end" write_both /dev/mapper/cs_live /tmp/expected /tmp/rand $((LEN - 999)) 7
before=$(dmsetup status cs_live | cut -d' ' -f4-)
dmsetup remove cs_snap && dmsetup remove cs_live
load_views() { dm_create cs_live "$(live_table 16)" && dm_create_ro cs_snap "$(snap_table 16)"; }
must "views reloaded over the same store" load_views
is "status after reactivation" "$(dmsetup status cs_live | cut -d' ' -f4-)" "$before"
check "live view after reactivation" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "snapshot view after reactivation" same_dev /dev/mapper/cs_snap $SCRATCH $LEN
dmsetup remove cs_snap && dmsetup remove cs_live
refused "a row store loaded as cow" "Store was made for another mode, chunk size or origin size" "0 $LEN cowsnap $O $STORE cow 16 live"
refused "the log says what was expected and found" "store mode mismatch: table says cow, store holds row" "0 $LEN cowsnap $O $STORE cow 16 live"

# Transient: the classic throw-away overlay.
wipe_store $STORE
must "transient row live view" dm_create cs_live "$(live_table 8 '1 transient')"
write_both /dev/mapper/cs_live /tmp/expected /tmp/rand 777 100
check "transient overlay reads its writes" same_range /dev/mapper/cs_live 777 /tmp/expected 777 100
check "origin untouched under the overlay" same_dev $O $SCRATCH $LEN
dmsetup remove cs_live

# A read-only origin: a read-only loop device over an image file.
wipe_store $STORE
dd if=/dev/urandom of=/tmp/img bs=1M count=8 2>/dev/null
cp /tmp/img /tmp/img.ref
cp /tmp/img /tmp/img.exp
LOOP=$(/sbin/losetup -r -f --show /tmp/img)
ILEN=$(sectors "$LOOP")
must "row live view over a read-only loop device" dm_create cs_ro "0 $ILEN cowsnap $LOOP $STORE row 8 live"
bad=0
for w in "0 8" "3 1" "100 77" "$((ILEN - 9)) 9" "5000 300"; do
	set -- $w
	write_both /dev/mapper/cs_ro /tmp/img.exp /tmp/rand "$1" "$2" || bad=1
done
is "writes to the live view succeed" "$bad" 0
check "live view holds them" same_dev /dev/mapper/cs_ro /tmp/img.exp "$ILEN"
dmesg -c >/dev/null
check "fold is refused" sh -c "! dmsetup message cs_ro 0 fold 2>/dev/null"
check "and the log says why" sh -c "dmesg | grep -q 'fold refused: the origin is read-only'"
dmsetup remove cs_ro
/sbin/losetup -d "$LOOP"
check "the image file is byte-identical" cmp -s /tmp/img /tmp/img.ref
refused "cow over a read-only origin" "Origin device is read-only: use mode row" \
	"0 $ILEN cowsnap $(/sbin/losetup -r -f --show /tmp/img) $STORE cow 8 live"
/sbin/losetup -D
dmsetup remove cs_origin
finish
