#!/bin/sh
# Power cuts in copy-on-write mode (helpers: pc-lib.sh).  While a writer
# syncs numbered blocks to the live view and fio hammers it with first
# writes, the power is cut at a random instant.  Then everything is torn
# down and reactivated: the snapshot view must equal the reference image
# taken at creation,
# and every block whose fsync returned before the cut must be in the
# live view.  Each cut reactivates the store left by the previous one.
. /tests/vm/lib.sh
case "$(cat /etc/cowsnap-kernel)" in	# 9 + 9 + 2 = 20 cuts per make check
debug) CUTS=2 ;;
*) CUTS=9 ;;
esac
plan $((CUTS * 5 + 2))

CHUNK=8
. /tests/vm/pc-lib.sh
random_file /tmp/rand 16384

views_up() {
	dm_create cs_live "0 $OLEN cowsnap /dev/mapper/cs_o /dev/mapper/cs_s cow $CHUNK live" &&
	dm_create cs_snap "0 $OLEN cowsnap /dev/mapper/cs_o /dev/mapper/cs_s cow $CHUNK snap"
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
	    --offset=16M --size=16M --direct=1 --thread --ioengine=libaio --iodepth=16 \
	    --time_based --runtime=120 --randseed=$i --eta=never --output=/dev/null &
	fpid=$!
	t=$(( $(rnd 30) + 5 ))
	nap $t
	last=$(tail -n 1 /tmp/synced)
	last=${last:-0}
	cut_power
	stop_load $wpid $fpid
	diag "cut $i after ${t}00 ms, $last blocks synced"
	must "cut $i: everything torn down" all_down
	must "cut $i: devices back (reboot)" disks_up
	if views_up; then
		check "cut $i: snapshot view equals the reference" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
		[ "$last" -gt 0 ] || diag "cut $i: no fsync returned before the cut"
		check "cut $i: the $last synced blocks are in the live view" \
			synced_ok /dev/mapper/cs_live $i $last
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
