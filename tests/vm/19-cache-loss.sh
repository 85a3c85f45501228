#!/bin/sh
# Power cuts that lose the disk's volatile cache, in both modes.
#
# The other power-cut scenarios drop every write from the cut on: what
# completed before it stays, as if the disk had no cache.  Here origin
# and store are slices of a dm-log-writes device, which logs a write
# only once a flush has covered it (at once if it is FUA), in the order
# the writes completed (its log is replayed by lw-replay, built from
# tests/vm/lw-replay.c).  Every prefix of the log is what the disk may
# hold after a power cut that lost all it had not flushed, the worst
# case; a store that commits exceptions before their data is durable,
# or without the flushes it needs, shows up here.
#
# Per mode, with 8 KiB chunks: a writer writes 4 KiB blocks one after
# the other (direct, each fsync'ed, then a log mark "wK"), so the first
# write to each chunk is a partial one (cow: copy, then write; row:
# filled from the origin first), while fio writes 512 B to 64 KiB at any
# alignment elsewhere, with an fsync every 16 writes.  Then the log is
# replayed onto the image the disk had at the start, up to each of
# several points (states right after a flush or FUA entry, and random
# prefixes, which cut a flush's batch short), and each state is brought
# up on a copy of its own, as after a reboot.  At each point:
# - the views come up over the store as it is, and it is valid;
# - the snapshot view is bit-exact (cow: the image at creation; row:
#   the origin, which is never written);
# - the writer's blocks whose mark is in the prefix are in the live
#   view; the one after them holds its new data or its old, whole; the
#   rest of its chunks and of the live view outside fio's range hold
#   the old data (in row, the other half of a chunk that was filled).
# Then the live view is flushed, and the merge that ends the snapshot
# is logged too (cow: rollback, row: fold; in batches of 61 exceptions)
# between the marks "merge", just before its message, and "merging",
# once the message returned, and states from "merge" on are brought up
# as well: the merge goes on and ends, and the live view is then what
# the merge makes of it (cow: the image at creation; row: the live view
# when the fold began), every byte; before "merging" only, the merge may
# also not have begun: the snapshot view is then bit-exact and the live
# view as it was before the message.
# Replaying the whole log must also give back the disk as it was left:
# that checks the log and the replayer.
#
# The plan comes last: a state whose prefix holds every writer mark has
# no block in flight, so it has one point fewer, and which states those
# are depends on the log.
. /tests/vm/lib.sh
if [ $SLOW = 1 ]; then
	POINTS=2 MPOINTS=1 FIO_IO=4
else
	POINTS=8 MPOINTS=6 FIO_IO=8
fi
PARAM=/sys/module/dm_cowsnap/parameters/merge_batch
echo 61 >$PARAM

OLEN=16384		# 8 MiB origin
SLEN=16384		# 8 MiB store
PCLEN=$((OLEN + SLEN))
CH=16			# 8 KiB chunks
WB=256			# the writer's 4 KiB blocks start here (1 MiB in)
W=24			# and there are so many
FIO_MB=2		# fio writes from 2 MiB
FIO_END=$((6 * 2048))	# to 6 MiB (sectors), FIO_IO MiB in all
LOG=$STORE		# the log device
LW=/tmp/lw.txt		# lw-replay list of the log

random_file /tmp/rand $(((W + 1) * 4))

# Devices: cs_lw, the logged device (SCRATCH), with the slices cs_o and
# cs_s; cs_base holds the disk's image at the start (SCRATCH, after it);
# cs_r, where the log is replayed, and cs_c, the copy a point is
# brought up on (ORIGIN), with its slices cs_co and cs_cs.
base_up() {
	dm_create cs_dev "0 $PCLEN linear $SCRATCH 0" &&
	dm_create cs_base "0 $PCLEN linear $SCRATCH $PCLEN" &&
	dm_create cs_r "0 $PCLEN linear $ORIGIN 0" &&
	dm_create cs_c "0 $PCLEN linear $ORIGIN $PCLEN" &&
	dm_create cs_co "0 $OLEN linear /dev/mapper/cs_c 0" &&
	dm_create cs_cs "0 $SLEN linear /dev/mapper/cs_c $OLEN"
}
logged_up() {
	dm_create cs_lw "0 $PCLEN log-writes $SCRATCH $LOG" &&
	dm_create cs_o "0 $OLEN linear /dev/mapper/cs_lw 0" &&
	dm_create cs_s "0 $SLEN linear /dev/mapper/cs_lw $OLEN"
}
views() { views_up "$1" "$2" "$3" $CH $OLEN; }	# MODE ORIGIN STORE
copy_views() { views "$1" /dev/mapper/cs_co /dev/mapper/cs_cs; }	# MODE

# writer: blocks 1..W, each synced, then marked in the log.
writer() {
	k=1
	while [ $k -le $W ]; do
		/usr/bin/dd if=/tmp/rand of=/dev/mapper/cs_live bs=4096 skip=$k \
			seek=$((WB + k - 1)) count=1 oflag=direct conv=fsync status=none &&
		dmsetup message cs_lw 0 mark "w$k" || return 1
		k=$((k + 1))
	done
}

# workload MODE: the load on fresh views over a blank store, logged;
# the views stay up.
workload() {
	dd if=/tmp/ref of=/dev/mapper/cs_dev bs=1M conv=fsync 2>/dev/null &&
	dd if=/dev/zero of=/dev/mapper/cs_dev bs=1M seek=$((OLEN / 2048)) count=1 \
		conv=fsync 2>/dev/null &&	# a blank store
	dd if=/dev/mapper/cs_dev of=/dev/mapper/cs_base bs=1M conv=fsync 2>/dev/null &&
	logged_up && views "$1" /dev/mapper/cs_o /dev/mapper/cs_s || return 1
	fio --name=cl --filename=/dev/mapper/cs_live --rw=randwrite --bsrange=512-64k \
	    --offset=${FIO_MB}M --size=4M --io_size=${FIO_IO}M --direct=1 --thread \
	    --ioengine=libaio --iodepth=8 --fsync=16 --randseed=19 --eta=never \
	    --output=/dev/null &
	fpid=$!
	writer
	wrc=$?
	wait $fpid
	frc=$?
	[ $wrc = 0 ] && [ $frc = 0 ]
}

# points N LO HI: N prefixes from LO + 1 to HI entries, in order: the
# states right after a flush or FUA entry in that range, evenly sampled,
# HI itself, and random prefixes.
points() {
	{
		awk -v p=$(($1 / 2)) -v lo="$2" -v hi="$3" \
		    '$1 >= lo && $1 < hi && $2 ~ /[FU]/ { a[++k] = $1 + 1 }
			END { for (j = 1; j <= p && k; j++) print a[int(j * k / (p + 1)) + 1] }' $LW
		echo "$3"
	} | sort -n -u >/tmp/points
	# (a range of fewer than N entries gives them all)
	while [ "$(wc -l </tmp/points)" -lt "$1" ] &&
	      [ "$(wc -l </tmp/points)" -lt $(($3 - $2)) ]; do
		rnd_set $(($3 - $2))
		echo $(($2 + R + 1)) >>/tmp/points
		sort -n -u -o /tmp/points /tmp/points
	done
	cat /tmp/points
}

# replay_to P: cs_r holds the log's first P entries (it held AT), and
# cs_c a copy of it.
replay_to() {
	/usr/bin/lw-replay replay $LOG /dev/mapper/cs_r $at "$1" &&
	dd if=/dev/mapper/cs_r of=/dev/mapper/cs_c bs=1M conv=fsync 2>/dev/null &&
	at=$1
}

# marks P: how many writer marks the first P entries hold.
marks() { awk -v p="$1" '$1 < p && $5 ~ /^w[0-9]/ { m++ } END { print m + 0 }' $LW; }

# wsec K: where the writer's block K (1..W; W + 1: its end) is, in sectors.
wsec() { echo $(((WB + $1 - 1) * 8)); }

# inflight_ok K: the live view's block K holds its new data or its old.
inflight_ok() {
	same_range /dev/mapper/cs_live "$(wsec "$1")" /tmp/rand $(($1 * 8)) 8 ||
	same_range /dev/mapper/cs_live "$(wsec "$1")" /tmp/ref "$(wsec "$1")" 8
}

# old_ok FROM TO: the live view's sectors FROM..TO-1 hold the old data.
old_ok() { [ "$1" -ge "$2" ] || same_range /dev/mapper/cs_live "$1" /tmp/ref "$1" $(($2 - $1)); }

# outside_ok: the old data everywhere but the writer's blocks and fio's.
outside_ok() {
	old_ok 0 "$(wsec 1)" && old_ok "$(wsec $((W + 1)))" $((FIO_MB * 2048)) &&
	old_ok $FIO_END $OLEN
}

# check_point MODE P: the state after the log's first P entries.  7
# points, 6 if every block was synced.
check_point() {
	m=$(marks "$2")
	must "$1 entry $2 of $(wc -l <$LW) ($m marks): views up over the store" \
		copy_views "$1"
	is "$1 entry $2: store valid" "$(cowsnap_field cs_live 3)" valid
	check "$1 entry $2: snapshot view bit-exact" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
	check "$1 entry $2: the $m synced blocks are in the live view" \
		same_range /dev/mapper/cs_live "$(wsec 1)" /tmp/rand 8 $((m * 8))
	[ "$m" -lt $W ] &&
		check "$1 entry $2: block $((m + 1)) new or old, whole" inflight_ok $((m + 1))
	check "$1 entry $2: the writer's later blocks hold the old data" \
		old_ok "$(wsec $((m + 2)))" "$(wsec $((W + 1)))"
	check "$1 entry $2: the live view outside the writes holds the old data" outside_ok
	remove_devs cs_snap cs_live
}

# check_merge_point MODE P: a state from the mark "merge" on.  3 points.
check_merge_point() {
	must "$1 entry $2 of $(wc -l <$LW) (merge): views up over the store" \
		copy_views "$1"
	st=$(cowsnap_field cs_live 3)
	if [ "$st" = valid ] && [ "$2" -le "$mg" ]; then
		# the merge had not begun (its message had not returned)
		check "$1 entry $2: not merging: the snapshot view is bit-exact" \
			same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
		check "$1 entry $2: not merging: the live view is as before the message" \
			same_dev /dev/mapper/cs_live /tmp/unmerged $OLEN
	else
		check "$1 entry $2: the merge ($st) goes on and ends" wait_state cs_live ended
		check "$1 entry $2: then the live view is what the merge makes" \
			same_dev /dev/mapper/cs_live /tmp/merged $OLEN
	fi
	remove_devs cs_snap cs_live
}

# merge MODE MESSAGE: the merge on the logged views, between the log
# marks "merge" and "merging"; /tmp/merged, what the live view must be
# once it ends.  3 points.
# The live view is flushed first: fio's writes after its last fsync
# would otherwise be flushed by the merge's first commit, so a state cut
# inside that flush's batch would hold some of them and not others,
# which a power cut may do to writes never flushed: "as before the
# message" would not hold, and rightly so (seen when fio ended after the
# writer, 2026-12-06).
merge() {
	check "$1: the live view flushed before the message" \
		/usr/bin/dd if=/dev/null of=/dev/mapper/cs_live conv=notrunc,fsync \
		count=0 status=none
	blockdev --flushbufs /dev/mapper/cs_live
	dd if=/dev/mapper/cs_live of=/tmp/unmerged bs=1M 2>/dev/null
	if [ "$2" = rollback ]; then
		cp /tmp/ref /tmp/merged
	else
		cp /tmp/unmerged /tmp/merged
	fi
	dmsetup message cs_lw 0 mark merge
	check "$1: $2 started" dmsetup message cs_live 0 "$2"
	dmsetup message cs_lw 0 mark merging
	check "$1: $2 ends" wait_state cs_live ended
}

# whole_log: replaying the whole log onto the start gives the disk.
whole_log() {
	/usr/bin/lw-replay replay $LOG /dev/mapper/cs_r 0 "$(wc -l <$LW)" &&
	same_range /dev/mapper/cs_r 0 /dev/mapper/cs_dev 0 $PCLEN
}

# run MODE MESSAGE
run() {
	must "$1: devices up" base_up
	must "$1: fio and the writer on the logged views" workload "$1"
	merge "$1" "$2"
	must "$1: logged devices down" remove_devs cs_snap cs_live cs_s cs_o cs_lw
	/usr/bin/lw-replay list $LOG >$LW || { not_ok "$1: log listed"; return; }
	n=$(wc -l <$LW)
	mm=$(awk '$5 == "merge" { print $1 }' $LW)
	mg=$(awk '$5 == "merging" { print $1 }' $LW)
	dd if=/dev/mapper/cs_base of=/dev/mapper/cs_r bs=1M conv=fsync 2>/dev/null
	check "$1: the whole log replayed gives back the disk" whole_log
	dd if=/dev/mapper/cs_base of=/dev/mapper/cs_r bs=1M conv=fsync 2>/dev/null
	diag "$1: $n entries, $(awk '$2 ~ /[FU]/' $LW | wc -l) flush or FUA, $(marks "$mm") marks, $2 between entries $mm and $mg"
	at=0
	for p in $(points $POINTS 0 "$mm"); do
		if replay_to "$p"; then
			check_point "$1" "$p"
		else
			not_ok "$1: replay to entry $p"
		fi
	done
	for p in $(points $MPOINTS $((mm + 1)) "$n"); do
		if replay_to "$p"; then
			check_merge_point "$1" "$p"
		else
			not_ok "$1: replay to entry $p"
		fi
	done
	check "$1: devices removed" remove_devs cs_cs cs_co cs_c cs_r cs_base cs_dev
}

dd if=/dev/urandom of=/tmp/ref bs=1M count=$((OLEN / 2048)) 2>/dev/null
run cow rollback
run row fold
echo 0 >$PARAM
plan $T
finish
