#!/bin/sh
# Both modes over a RAM disk, which ends every bio in its caller: copies
# end while the worker starts them, are handled in the same pass, and
# copy-on-write starts the copies of the bios parked meanwhile before
# it commits (Documentation/dm-cowsnap.rst, Copies).  The virtio disks
# of the other scenarios end bios from an interrupt and never take those
# paths.  fio at queue depth 32 and random writes to the live view with
# reads of the snapshot view at once, then reactivation and power cuts
# (pc-lib.sh, over the RAM disk; not on the debug kernel); exact
# comparisons only.
. /tests/vm/lib.sh
RAM=/dev/ram0
# The debug kernel runs the data checks only: its checkers are what it
# adds, and 05-powercut runs its cuts there.
if [ $SLOW = 1 ]; then MB=8 WRITES=12 FIOMB=4 CUTS=0; else MB=32 WRITES=60 FIOMB=16 CUTS=3; fi
cuts_points=0
[ $CUTS = 0 ] || cuts_points=$((1 + CUTS * 5 + 1))
plan $((1 + 2 * 9 + cuts_points))

LEN=$((MB * 2048))
random_file /tmp/rand 2048
random_file /tmp/ref $((MB * 1024))	# the origin's data at creation
slices() {
	dm_create cs_ram_o "0 $LEN linear $RAM 0" &&
	dm_create cs_ram_s "0 $((LEN * 2)) linear $RAM $LEN"
}
must "RAM disk slices: origin and store" slices
O=/dev/mapper/cs_ram_o
S=/dev/mapper/cs_ram_s

views() { views_up "$1" $O $S 8 $LEN; }	# MODE
both_intact() {
	same_dev /dev/mapper/cs_live /tmp/expected $LEN &&
	same_dev /dev/mapper/cs_snap /tmp/ref $LEN
}

# run MODE: the data checks of one mode over the RAM disk.  fio writes
# the last FIOMB MiB of the live view (first writes, 4 KiB, queue depth
# 32, verified), random writes of 1..300 sectors land before them, and
# the snapshot view is read meanwhile.
run() {
	mode=$1
	wipe_store $S
	dd if=/tmp/ref of=$O bs=1M conv=fsync 2>/dev/null
	cp /tmp/ref /tmp/expected
	must "$mode: views over the RAM disk" views $mode
	fio --name=live --filename=/dev/mapper/cs_live --rw=randwrite --bs=4k \
	    --offset=$((MB - FIOMB))M --size=${FIOMB}M --direct=1 --ioengine=libaio --iodepth=32 \
	    --verify=crc32c --randseed=7 --eta=never --output=/tmp/fio-live.txt &
	fpid=$!
	fio --name=snap --filename=/dev/mapper/cs_snap --rw=randread --bs=16k --readonly \
	    --size=${MB}M --direct=1 --ioengine=libaio --iodepth=8 --eta=never \
	    --output=/tmp/fio-snap.txt &
	spid=$!
	bad=0
	random_writes /dev/mapper/cs_live /tmp/expected /tmp/rand $WRITES 300 \
		$((LEN - FIOMB * 2048)) || bad=1
	wait $fpid
	is "$mode: fio's verified first writes at queue depth 32" "$?" 0
	wait $spid
	is "$mode: fio's reads of the snapshot view meanwhile" "$?" 0
	is "$mode: $WRITES random writes of 1..300 sectors meanwhile" "$bad" 0
	dd if=/dev/mapper/cs_live of=/tmp/expected bs=1M skip=$((MB - FIOMB)) \
	   seek=$((MB - FIOMB)) count=$FIOMB conv=notrunc 2>/dev/null
	check "$mode: live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
	check "$mode: snapshot view equals the reference image" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
	if [ "$mode" = cow ]; then
		check "$mode: origin holds every write" same_dev $O /tmp/expected $LEN
	else
		check "$mode: origin never written" same_dev $O /tmp/ref $LEN
	fi
	dmsetup remove cs_snap && dmsetup remove cs_live
	must "$mode: views reactivated" views $mode
	check "$mode: after reactivation, live view and snapshot view intact" both_intact
	dmsetup remove cs_snap && dmsetup remove cs_live
}
run cow
run row
dmsetup remove cs_ram_s && dmsetup remove cs_ram_o

# Power cuts in copy-on-write mode with origin and store on the RAM
# disk (OLEN sectors): fio's 4 KiB first writes at queue depth 32, in
# the origin's second half, keep gathered commits going.
[ $CUTS -gt 0 ] || finish
SCRATCH=$RAM
. /tests/vm/pc-lib.sh
cow_cuts_setup $CUTS
i=1
while [ $i -le $CUTS ]; do
	cow_cut $i --rw=randwrite --bs=4k --offset=$((OLEN / 4096))M \
		--size=$((OLEN / 4096))M --iodepth=32
	i=$((i + 1))
done
cow_cuts_done
finish
