#!/bin/sh
# Power cuts.  Origin and store are two dm-linear slices of one device,
# cs_pc.  While a writer syncs numbered blocks to the live view and fio
# hammers it with first writes, cs_pc is swapped at a random instant for
# dm-flakey dropping every write: from then on nothing reaches the disk,
# as after a power cut.  Then everything is torn down and reactivated:
# the snapshot view must equal the reference image taken at creation,
# and every block whose fsync returned before the cut must be in the
# live view.  Each cut reactivates the store left by the previous one.
. /tests/vm/lib.sh
case "$(cat /etc/cowsnap-kernel)" in
debug) CUTS=4 ;;
*) CUTS=8 ;;
esac
plan $((CUTS * 5 + 2))

OLEN=65536		# 32 MiB origin
SLEN=131072		# 64 MiB store
PCLEN=$((OLEN + SLEN))
CHUNK=8
WBASE=256		# the writer's 4 KiB blocks start here (1 MiB in)
random_file /tmp/rand 16384

disks_up() {
	dm_create cs_pc "0 $PCLEN linear $SCRATCH 0" &&
	dm_create cs_o "0 $OLEN linear /dev/mapper/cs_pc 0" &&
	dm_create cs_s "0 $SLEN linear /dev/mapper/cs_pc $OLEN"
}
views_up() {
	dm_create cs_live "0 $OLEN cowsnap /dev/mapper/cs_o /dev/mapper/cs_s cow $CHUNK live" &&
	dm_create cs_snap "0 $OLEN cowsnap /dev/mapper/cs_o /dev/mapper/cs_s cow $CHUNK snap"
}
all_down() {
	for d in cs_snap cs_live cs_s cs_o cs_pc; do dmsetup remove $d || return 1; done
}

# writer ITER: sync 4 KiB blocks WBASE+1, WBASE+2, ... with data from
# /tmp/rand, logging each block number once its fsync returned.
writer() {
	k=1
	while [ $k -le 1500 ]; do
		dd if=/tmp/rand of=/dev/mapper/cs_live bs=4096 skip=$(($1 * 250 + k)) \
		   seek=$((WBASE + k)) count=1 conv=notrunc,fsync 2>/dev/null || return
		echo $k >>/tmp/synced
		k=$((k + 1))
	done
}

must "devices up" disks_up
wipe_store /dev/mapper/cs_s
dd if=/dev/urandom of=/dev/mapper/cs_o bs=1M count=32 conv=fsync 2>/dev/null
dd if=/dev/mapper/cs_o of=/tmp/ref bs=1M count=32 2>/dev/null

i=1
while [ $i -le $CUTS ]; do
	must "cut $i: views up (reactivating)" views_up
	: >/tmp/synced
	writer $i &
	wpid=$!
	fio --name=pc --filename=/dev/mapper/cs_live --rw=randwrite --bsrange=4k-64k \
	    --offset=16M --size=16M --direct=1 --ioengine=libaio --iodepth=16 \
	    --time_based --runtime=120 --randseed=$i --eta=never --output=/dev/null &
	fpid=$!
	t=$(( $(rnd 30) + 5 ))
	sleep "$((t / 10)).$((t % 10))"
	last=$(tail -n 1 /tmp/synced)
	last=${last:-0}
	dmsetup suspend cs_pc
	dmsetup load cs_pc --table "0 $PCLEN flakey $SCRATCH 0 0 3600 1 drop_writes"
	dmsetup resume cs_pc
	kill $wpid $fpid 2>/dev/null
	wait $wpid $fpid 2>/dev/null
	diag "cut $i after ${t}00 ms, $last blocks synced"
	must "cut $i: everything torn down" all_down
	must "cut $i: devices back (reboot)" disks_up
	if views_up; then
		check "cut $i: snapshot view equals the reference" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
		[ "$last" -gt 0 ] || diag "cut $i: no fsync returned before the cut"
		check "cut $i: the $last synced blocks are in the live view" \
			same_range /dev/mapper/cs_live $(((WBASE + 1) * 8)) /tmp/rand $(((i * 250 + 1) * 8)) $((last * 8))
		dmsetup remove cs_snap && dmsetup remove cs_live
	else
		not_ok "cut $i: reactivation failed"
		echo "Bail out! cut $i"
		exit 1
	fi
	i=$((i + 1))
done
check "store, origin and cut device removed" sh -c "dmsetup remove cs_s && dmsetup remove cs_o && dmsetup remove cs_pc"
finish
