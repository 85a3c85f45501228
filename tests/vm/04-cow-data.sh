#!/bin/sh
# Copy-on-write data path: writes of many sizes and alignments to the live
# view, concurrent reads of the snapshot view, a writable snapshot view,
# and reactivation; every check is an exact comparison with a reference.
. /tests/vm/lib.sh
plan 21

if [ $SLOW = 1 ]; then MB=16 WRITES=25 FIOMB=4; else MB=64 WRITES=100 FIOMB=16; fi
wipe_store $STORE
origin_setup $MB
snap_table() { echo "0 $LEN cowsnap $O $STORE cow $1 snap"; }

must "live view created on a blank store" dm_create cs_live "0 $LEN cowsnap $O $STORE cow 8 live"
must "snapshot view created" dm_create cs_snap "$(snap_table 8)"
is "status right after creation" "$(dmsetup status cs_snap | cut -d' ' -f4-7,10)" "cow snap valid 1 -"

# Writes of 1..300 sectors at any alignment, many crossing chunks.
bad=0
random_writes /dev/mapper/cs_live /tmp/expected /tmp/rand $WRITES 300 $LEN || bad=1
is "$WRITES writes of 1..300 sectors to the live view" "$bad" 0
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "origin holds every write" same_dev $O /tmp/expected $LEN
check "snapshot view equals the reference image" same_dev /dev/mapper/cs_snap $SCRATCH $LEN
used=$(cowsnap_field cs_snap 4)
check "store holds exceptions ($used chunks used)" test "$used" -gt $WRITES

# fio on both views at once: verified random writes to the live view,
# random reads of the snapshot view.
fio --name=live --filename=/dev/mapper/cs_live --rw=randwrite --bs=4k \
    --size=${FIOMB}M --direct=1 --ioengine=libaio --iodepth=8 --numjobs=1 \
    --verify=crc32c --randseed=42 --eta=never --output=/tmp/fio-live.txt &
fpid=$!
fio --name=snap --filename=/dev/mapper/cs_snap --rw=randread --bs=16k \
    --size=$((MB))M --direct=1 --ioengine=psync --numjobs=2 \
    --eta=never --output=/tmp/fio-snap.txt
snap_rc=$?
wait $fpid
live_rc=$?
is "fio verified writes on the live view" "$live_rc" 0
is "fio reads on the snapshot view" "$snap_rc" 0
dd if=/dev/mapper/cs_live of=/tmp/expected bs=1M count=$FIOMB 2>/dev/null conv=notrunc
check "snapshot view still equals the reference after fio" same_dev /dev/mapper/cs_snap $SCRATCH $LEN
is "no bio of either view left in flight by dm's accounting" "$(inflight cs_live cs_snap)" "0 0 0 0"

# The snapshot view is writable; its writes stay in the store.
cp /tmp/expected /tmp/live-before
dd if=$SCRATCH of=/tmp/snapimg bs=1M count=$MB 2>/dev/null
for w in "100 8" "4093 5" "20000 300" "$((LEN - 8)) 8"; do
	set -- $w
	write_both /dev/mapper/cs_snap /tmp/snapimg /tmp/rand "$1" "$2"
done
check "snapshot view reads back its own writes" same_dev /dev/mapper/cs_snap /tmp/snapimg $LEN
check "live view unaffected by snapshot writes" same_dev /dev/mapper/cs_live /tmp/live-before $LEN
write_both /dev/mapper/cs_live /tmp/expected /tmp/rand 20000 300
check "a later live write leaves the snapshot's writes alone" same_dev /dev/mapper/cs_snap /tmp/snapimg $LEN

# Reactivation: tear down, load again, everything is back.
before=$(dmsetup status cs_snap | cut -d' ' -f4-)
dmsetup remove cs_snap && dmsetup remove cs_live
load_views() {
	dm_create cs_live "0 $LEN cowsnap $O $STORE cow 8 live" &&
	dm_create cs_snap "$(snap_table 8)"
}
must "views reloaded over the same store" load_views
is "status after reactivation" "$(dmsetup status cs_snap | cut -d' ' -f4-)" "$before"
check "snapshot view after reactivation" same_dev /dev/mapper/cs_snap /tmp/snapimg $LEN
check "live view after reactivation" same_dev /dev/mapper/cs_live /tmp/expected $LEN
dmsetup remove cs_snap && dmsetup remove cs_live
refused "a store made with another chunk size" "Store was made for another mode, chunk size or origin size" "$(snap_table 16)"
refused "the log says what was expected and found" "store chunk size mismatch: table says 16 sectors, store holds 8" "$(snap_table 16)"
dmsetup remove cs_origin
finish
