#!/bin/sh
# Redirect-on-write runs: a first write covering many chunks takes one
# pending exception and, once written, one index entry for each run of
# its chunks (a run never crosses a group of 256 chunks).  Writes that
# start, end and cross groups anywhere; partial writes into chunks of a
# run; reads of every size across runs and the origin; reactivation
# (the exceptions come back one per chunk) and runs beside them; partial
# writes racing into chunks being written as runs; a rollback dropping
# runs; a fold of a store whose exceptions are still runs, in many
# merge batches.  Exact comparisons only.
. /tests/vm/lib.sh
plan 30

if [ $SLOW = 1 ]; then MB=12; else MB=32; fi
PARAM=/sys/module/dm_cowsnap/parameters/merge_batch
wipe_store $STORE
origin_setup $MB
random_file /tmp/big 8192
cp /tmp/expected /tmp/ref
views() { views_up row $O $STORE 8 $LEN; }
down() { remove_devs cs_snap cs_live; }
# writes OFF:SECTORS...: write_both of each from /tmp/big
writes() {
	wr_bad=0
	for w in "$@"; do
		write_both /dev/mapper/cs_live /tmp/expected /tmp/big \
			"${w%:*}" "${w#*:}" 16384 || wr_bad=1
	done
	return $wr_bad
}
# direct_reads BS: the live view read with direct I/O in BS pieces
direct_reads() {
	/usr/bin/dd if=/dev/mapper/cs_live bs="$1" iflag=direct status=none |
		/usr/bin/cmp -s - /tmp/expected
}

must "row views, 4 KiB chunks" views
# 1 MiB on a group; 1 MiB from chunk 257 (over two groups, unaligned);
# 300 KiB starting and ending inside chunks; 2 MiB at once; one chunk;
# an end inside a chunk; the device's last MiB.
must "first writes covering many chunks" writes 0:2048 2056:2048 5122:600 \
	8192:4096 16000:8 16384:1000 $((LEN - 2048)):2048
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "reads of 4 KiB with direct I/O" direct_reads 4k
check "reads of 12 KiB (across runs and the origin)" direct_reads 12k
check "reads of 1 MiB" direct_reads 1M
check "origin untouched" same_dev $O /tmp/ref $LEN
check "snapshot view is the origin" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
must "partial writes into chunks of runs" writes 1030:300 2100:1 4100:9 9000:2047
check "live view holds them" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "reads of 12 KiB after them" direct_reads 12k
down
must "views reactivated" views
check "reactivated live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
must "runs beside the reloaded exceptions" writes 12800:1536 1024:2048 15000:1400
check "live view holds them" same_dev /dev/mapper/cs_live /tmp/expected $LEN

# Partial writes racing into chunks that 256 KiB writes redirect as runs:
# whatever order they end in, what the live view then holds must stay,
# through reactivation and the fold below.
RACE=17408
fio --filename=/dev/mapper/cs_live --direct=1 --ioengine=libaio --iodepth=4 \
    --offset=$((RACE * 512)) --size=2M --eta=never --output=/tmp/fio-runs.txt \
    --name=runs --rw=write --bs=256k \
    --name=parts --rw=randwrite --bs=2k --number_ios=300 --randseed=7
is "runs and partial writes raced on fresh chunks" "$?" 0
/usr/bin/dd if=/dev/mapper/cs_live of=/tmp/race bs=1M skip=$((RACE * 512)) \
	count=2 iflag=direct,skip_bytes status=none
dd if=/tmp/race of=/tmp/expected bs=1M seek=$((RACE * 512)) \
	oflag=seek_bytes conv=notrunc 2>/dev/null
check "the raced region reads back the same" direct_reads 64k
check "origin still untouched" same_dev $O /tmp/ref $LEN
must "a flush" blockdev --flushbufs /dev/mapper/cs_live
down
must "views reactivated after the race" views
check "the raced region survived reactivation" same_dev /dev/mapper/cs_live /tmp/expected $LEN

# Rollback drops runs and singles; runs again, then a fold of them.
must "row rollback" dmsetup message cs_live 0 rollback
check "rolled back: the live view is the snapshot" same_dev /dev/mapper/cs_live /tmp/ref $LEN
cp /tmp/ref /tmp/expected
must "runs again after the rollback" writes 0:2048 2056:2048 8192:4096 \
	$((LEN - 4096)):4000
must "merge batches of 300 exceptions" sh -c "echo 300 >$PARAM"
must "row fold of runs accepted" dmsetup message cs_live 0 fold
must "a write while the fold runs" writes 4000:2048
must "row fold ends" wait_state cs_live ended
check "folded: live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
echo 0 >$PARAM
down
check "folded: the origin alone holds them" same_dev $O /tmp/expected $LEN
dmsetup remove cs_origin
finish
