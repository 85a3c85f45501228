#!/bin/sh
# Power-cut helpers shared by the power-cut scenarios (sourced after
# lib.sh).  Origin and store are two dm-linear slices of one device,
# cs_pc; cut_power swaps cs_pc for dm-flakey dropping every write, so
# from then on nothing reaches the disk, as after a power cut.
OLEN=${OLEN:-65536}	# 32 MiB origin
SLEN=${SLEN:-131072}	# 64 MiB store
PCLEN=$((OLEN + SLEN))
WBASE=256		# the writer's 4 KiB blocks start here (1 MiB in)
WBLOCKS=1500

disks_up() {
	dm_create cs_pc "0 $PCLEN linear $SCRATCH 0" &&
	dm_create cs_o "0 $OLEN linear /dev/mapper/cs_pc 0" &&
	dm_create cs_s "0 $SLEN linear /dev/mapper/cs_pc $OLEN"
}
all_down() {
	for dev in cs_snap cs_live cs_s cs_o cs_pc; do dmsetup remove $dev || return 1; done
}

# writer ITER: sync 4 KiB blocks WBASE+1, WBASE+2, ... with data from
# /tmp/rand, logging each block number once its fsync returned.
writer() {
	k=1
	while [ $k -le $WBLOCKS ]; do
		dd if=/tmp/rand of=/dev/mapper/cs_live bs=4096 skip=$(($1 * 250 + k)) \
		   seek=$((WBASE + k)) count=1 conv=notrunc,fsync 2>/dev/null || return
		echo $k >>/tmp/synced
		k=$((k + 1))
	done
}

# stop_load WRITER_PID FIO_PID: end the writer and fio after a cut.  fio
# runs its job as a thread (--thread) and gets SIGKILL: a SIGTERM that
# lands while fio still sets its job up can leave fio waiting on its own
# futex for ever (seen on the debug kernel, where set-up is slow).
stop_load() {
	kill -KILL "$2" 2>/dev/null
	kill "$1" 2>/dev/null
	wait "$1" "$2" 2>/dev/null
}

# cut_power: from now on every write to cs_pc is dropped.
cut_power() {
	dmsetup suspend cs_pc
	dmsetup load cs_pc --table "0 $PCLEN flakey $SCRATCH 0 0 3600 1 drop_writes"
	dmsetup resume cs_pc
}

# nap TENTHS: sleep TENTHS tenths of a second.
nap() { sleep "$(($1 / 10)).$(($1 % 10))"; }

# synced_ok DEV ITER LAST: the LAST blocks the writer synced are in DEV.
synced_ok() {
	same_range "$1" $(((WBASE + 1) * 8)) /tmp/rand $((($2 * 250 + 1) * 8)) $(($3 * 8))
}

# outside_writer_ok DEV IMAGE: DEV equals IMAGE but where the writer writes.
outside_writer_ok() {
	same_range "$1" 0 "$2" 0 $(((WBASE + 1) * 8)) &&
	same_range "$1" $(((WBASE + 1 + WBLOCKS) * 8)) "$2" $(((WBASE + 1 + WBLOCKS) * 8)) \
		$((OLEN - (WBASE + 1 + WBLOCKS) * 8))
}
