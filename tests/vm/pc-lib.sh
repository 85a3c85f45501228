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
all_down() { remove_devs cs_snap cs_live cs_s cs_o cs_pc; }

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

# ---- copy-on-write cuts (05-powercut, 17-ramdisk) ----

cow_views_up() { views_up cow /dev/mapper/cs_o /dev/mapper/cs_s 8 $OLEN; }

# cow_cuts_setup CUTS: the devices, a blank store, a random origin and
# its reference image in /tmp/ref, random source data for the writer
# over CUTS cuts (cut I writes blocks I * 250 + 1 on).  1 point.
cow_cuts_setup() {
	must "devices up" disks_up
	wipe_store /dev/mapper/cs_s
	dd if=/dev/urandom of=/dev/mapper/cs_o bs=1M count=$((OLEN / 2048)) conv=fsync 2>/dev/null
	dd if=/dev/mapper/cs_o of=/tmp/ref bs=1M count=$((OLEN / 2048)) 2>/dev/null
	random_file /tmp/rand $((($1 * 250 + WBLOCKS + 1) * 4))
}

# cow_cut I FIO_ARGS...: power cut I.  The views come up over the store
# the last cut left; while the writer syncs its blocks and fio (its job
# a thread, with FIO_ARGS) writes the live view, the power is cut at a
# random instant (0.5 to 3.4 s in); everything is torn down and
# reactivated: the snapshot view must equal /tmp/ref, and every block
# whose fsync returned before the cut must be in the live view.
# 5 points; a failure to come back up ends the scenario.
cow_cut() {
	i=$1
	shift
	must "cut $i: views up (reactivating)" cow_views_up
	: >/tmp/synced
	writer "$i" &
	wpid=$!
	fio --name=pc --filename=/dev/mapper/cs_live --direct=1 --thread \
	    --ioengine=libaio --time_based --runtime=120 --randseed="$i" \
	    --eta=never --output=/dev/null "$@" &
	fpid=$!
	rnd_set 30
	t=$((R + 5))
	nap $t
	last=$(tail -n 1 /tmp/synced)
	last=${last:-0}
	cut_power
	stop_load $wpid $fpid
	diag "cut $i after ${t}00 ms, $last blocks synced"
	must "cut $i: everything torn down" all_down
	must "cut $i: devices back (reboot)" disks_up
	if ! cow_views_up; then
		not_ok "cut $i: reactivation failed"
		echo "Bail out! cut $i"
		exit 1
	fi
	check "cut $i: snapshot view equals the reference" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
	[ "$last" -gt 0 ] || diag "cut $i: no fsync returned before the cut"
	check "cut $i: the $last synced blocks are in the live view" \
		synced_ok /dev/mapper/cs_live "$i" "$last"
	dmsetup remove cs_snap && dmsetup remove cs_live
}

# cow_cuts_done: the devices go.  1 point.
cow_cuts_done() {
	check "store, origin and cut device removed" sh -c "dmsetup remove cs_s && dmsetup remove cs_o && dmsetup remove cs_pc"
}
