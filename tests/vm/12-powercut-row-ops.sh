#!/bin/sh
# Power cuts (helpers: pc-lib.sh) during redirect-on-write writes, during
# a copy-on-write rollback and during a redirect-on-write fold.  After
# each cut everything is torn down and reactivated:
# - row writes: the origin is bit-exact, the snapshot view equals it, and
#   every block synced before the cut is in the live view;
# - rollback / fold: the operation completes after reactivation, and the
#   live view (then the origin alone) is exactly what it must be: the
#   image at the start of the operation, plus every block the writer
#   synced afterwards (blocks it had not synced yet are not compared).
. /tests/vm/lib.sh
if [ $SLOW = 1 ]; then CUTS=1; else CUTS=3; fi	# 3 cuts of each kind: 9 + 9 + 3 = 21 per make check
plan $((3 + CUTS * 16))	# 2 + 4 per row cut + 6 per operation cut, 2 operations + 1

. /tests/vm/pc-lib.sh
# Merge batches of 253 exceptions (dm_cowsnap.merge_batch): the cuts
# fall between batches as well as within one on these small devices.
PARAM=/sys/module/dm_cowsnap/parameters/merge_batch
echo 253 >$PARAM
random_file /tmp/rand 16384
O=/dev/mapper/cs_o
S=/dev/mapper/cs_s

views() { views_up "$1" $O $S 8 $OLEN "$2"; }	# MODE [LIVE_FEATURES]
fio_bg() {	# SEED SECONDS OFFSET_MB: random writes to the live view
	exec fio --name=pc --filename=/dev/mapper/cs_live --rw=randwrite --bsrange=4k-64k \
	    --offset="$3M" --size=$((32 - $3))M --direct=1 --thread --ioengine=libaio --iodepth=16 --time_based \
	    --runtime="$2" --randseed="$1" --eta=never --output=/dev/null
}
reboot() {	# MODE: tear down after a cut, bring the devices back
	all_down && disks_up && views "$1"
}

must "devices up" disks_up
wipe_store $S
dd if=/dev/urandom of=$O bs=1M count=32 conv=fsync 2>/dev/null
dd if=$O of=/tmp/ref bs=1M count=32 2>/dev/null

# ---- row writes ----
must "row views on a blank store" views row
i=1
while [ $i -le $CUTS ]; do
	: >/tmp/synced
	writer $i &
	wpid=$!
	fio_bg $i 120 16 &	# clear of the writer's blocks
	fpid=$!
	nap $(( $(rnd 30) + 5 ))
	last=$(tail -n 1 /tmp/synced)
	last=${last:-0}
	cut_power
	stop_load $wpid $fpid
	must "row cut $i: reactivated ($last blocks synced)" reboot row
	check "row cut $i: origin is bit-exact" same_dev $O /tmp/ref $OLEN
	check "row cut $i: snapshot view equals the origin" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
	check "row cut $i: the synced blocks are in the live view" synced_ok /dev/mapper/cs_live $i $last
	i=$((i + 1))
done
all_down && disks_up

# op_cut MODE MESSAGE ITER: changes, the message, the writer, a cut.
op_cut() {
	dd if=/tmp/ref of=$O bs=1M count=32 conv=fsync 2>/dev/null
	must "$2 cut $3: fresh $1 snapshot" views "$1" "1 reformat"
	(fio_bg $(($3 + 100)) 3 0)
	if [ "$2" = rollback ]; then
		cp /tmp/ref /tmp/pre			# the snapshot
	else
		blockdev --flushbufs /dev/mapper/cs_live
		dd if=/dev/mapper/cs_live of=/tmp/pre bs=1M count=32 2>/dev/null
	fi
	: >/tmp/synced
	dmsetup message cs_live 0 "$2"
	writer $(($3 + 10)) &
	wpid=$!
	nap $(rnd 12)
	state=$(cowsnap_field cs_live 3)
	last=$(tail -n 1 /tmp/synced)
	last=${last:-0}
	cut_power
	kill $wpid 2>/dev/null
	wait $wpid 2>/dev/null
	diag "$2 cut $3: state $state at the cut, $last blocks synced"
	must "$2 cut $3: reactivated" reboot "$1"
	check "$2 cut $3: the operation completes" wait_state cs_live ended
	check "$2 cut $3: live view is exact outside the writer's blocks" outside_writer_ok /dev/mapper/cs_live /tmp/pre
	check "$2 cut $3: the synced blocks are in the live view" synced_ok /dev/mapper/cs_live $(($3 + 10)) $last
	check "$2 cut $3: torn down" all_down
	disks_up
}
i=1
while [ $i -le $CUTS ]; do
	op_cut cow rollback $i
	op_cut row fold $i
	i=$((i + 1))
done
check "devices removed" sh -c "dmsetup remove cs_s && dmsetup remove cs_o && dmsetup remove cs_pc"
echo 0 >$PARAM
finish
