#!/bin/sh
# Roll back and fold, in both modes, with live writes while they run:
# exact comparisons of the live view, the origin alone afterwards, the
# status grammar (state, operation, progress), the events, and what is
# refused.
. /tests/vm/lib.sh
plan 57

# Merges of 1012 exceptions a batch (dm_cowsnap.merge_batch), many
# batches on these small devices; the transient stores' merges, at the
# end, take the default batch (4048 exceptions of 4 KiB chunks) but on
# the debug kernel, whose origin holds about one.
# BLOCK: the MiB that each scribble rewrites in one piece, over one
# merge batch even alone.
if [ $SLOW = 1 ]; then MB=16 WRITES=16 BLOCK=4 TBATCH=1012
else MB=64 WRITES=50 BLOCK=20 TBATCH=4048; fi
PARAM=/sys/module/dm_cowsnap/parameters/merge_batch
must "merge batches of 1012 exceptions" sh -c "echo 1012 >$PARAM"
wipe_store $STORE
origin_setup $MB
cp /tmp/expected /tmp/ref

views() {	# MODE CHUNK [LIVE_FEATURES [SNAP_FEATURES]]
	views_up "$1" $O $STORE "$2" $LEN "$3" "$4"
}
down() { remove_devs cs_snap cs_live; }
scribble() {	# N: N random writes to the live view, mirrored in /tmp/expected
	random_writes /dev/mapper/cs_live /tmp/expected /tmp/rand "$1" 200 $LEN
	dd if=/dev/urandom of=/tmp/chunk bs=1M count=$BLOCK 2>/dev/null
	dd if=/tmp/chunk of=/dev/mapper/cs_live bs=1M seek=4 conv=fsync,notrunc 2>/dev/null
	dd if=/tmp/chunk of=/tmp/expected bs=1M seek=4 conv=notrunc 2>/dev/null
}
snap_fails() { ! /usr/bin/dd if=/dev/mapper/cs_snap of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; }

# ---- cow rollback: a merge, with live writes while it runs ----
must "cow views" views cow 8
scribble $WRITES
cp /tmp/ref /tmp/expected		# after the rollback: the snapshot...
ev=$(events cs_live)
must "cow rollback accepted" dmsetup message cs_live 0 rollback
scribble $((WRITES / 2))		# ...plus what is written meanwhile
is "cow rollback: state and operation while or after merging" \
	"$(cowsnap_field cs_live 3 | sed 's/merging/ended/') $(cowsnap_field cs_live 8)" "ended rollback"
check "cow rollback: the snapshot view fails from the start" snap_fails
must "cow rollback ends" wait_state cs_live ended
total=$(cowsnap_field cs_live 9 | cut -d/ -f2)
is "cow rollback: progress complete" "$(cowsnap_field cs_live 9)" "$total/$total"
check "cow rollback: an event was raised" test "$(events cs_live)" -gt "$ev"
check "cow rollback: live view is the snapshot plus later writes" same_dev /dev/mapper/cs_live /tmp/expected $LEN
down
check "cow rollback: the origin alone holds it" same_dev $O /tmp/expected $LEN
must "cow ended store: views load again" views cow 8
is "cow ended store: still ended" "$(cowsnap_field cs_live 3)" ended
scribble 5
check "cow ended: live writes reach the origin" same_dev $O /tmp/expected $LEN
down

# ---- cow fold: instant ----
must "new cow snapshot with reformat" views cow 8 "1 reformat"
dmsetup remove cs_snap
must "cow snapshot view again (no reformat)" dm_create cs_snap "0 $LEN cowsnap $O $STORE cow 8 snap"
cp /tmp/expected /tmp/ref
scribble $WRITES
must "cow fold accepted" dmsetup message cs_snap 0 fold
is "cow fold: ended at once" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 8) $(cowsnap_field cs_live 9)" "ended fold -"
check "cow fold: snapshot view fails" snap_fails
check "cow fold: live view keeps every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
dmesg -c >/dev/null
check "a second fold is refused" sh -c "! dmsetup message cs_live 0 fold 2>/dev/null"
check "and the log says why" sh -c "dmesg | grep -q 'fold refused: the snapshot has ended'"
check "an unknown message is refused" sh -c "! dmsetup message cs_live 0 frobnicate 2>/dev/null"
down
check "cow fold: the origin alone holds the live data" same_dev $O /tmp/expected $LEN

# ---- row rollback: instant, the snapshot goes on ----
cp /tmp/expected /tmp/ref
must "new row snapshot" views row 8 "1 reformat"
scribble $WRITES
check "row: origin untouched" same_dev $O /tmp/ref $LEN
ev=$(events cs_live)
must "row rollback accepted" dmsetup message cs_live 0 rollback
is "row rollback: done at once, snapshot still valid" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 8) $(cowsnap_field cs_live 4)" "valid - 1"
check "row rollback: an event was raised" test "$(events cs_live)" -gt "$ev"
check "row rollback: live view is the snapshot" same_dev /dev/mapper/cs_live /tmp/ref $LEN
cp /tmp/ref /tmp/expected
scribble $WRITES
check "row after rollback: redirects again" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "row after rollback: origin still untouched" same_dev $O /tmp/ref $LEN
check "row after rollback: snapshot view is the origin" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
down
must "row views reactivated after rollback" views row 8
check "row rollback survives reactivation" same_dev /dev/mapper/cs_live /tmp/expected $LEN

# ---- row fold: a merge, with live writes while it runs ----
must "row fold accepted" dmsetup message cs_live 0 fold
scribble $((WRITES / 2))
check "row fold: snapshot view fails" snap_fails
must "row fold ends" wait_state cs_live ended
total=$(cowsnap_field cs_live 9 | cut -d/ -f2)
is "row fold: status" "$(cowsnap_field cs_live 8) $(cowsnap_field cs_live 9)" "fold $total/$total"
check "row fold: live view keeps every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
dmesg -c >/dev/null
check "rollback after the end is refused" sh -c "! dmsetup message cs_live 0 rollback 2>/dev/null"
check "and the log says why" sh -c "dmesg | grep -q 'rollback refused: the snapshot has ended'"
down
check "row fold: the origin alone holds the live data" same_dev $O /tmp/expected $LEN

# ---- releasing the store: the live view becomes a linear mapping ----
must "row views over the ended store" views row 8
dmsetup remove cs_snap
dmsetup suspend cs_live && dmsetup load cs_live --table "0 $LEN linear $O 0" && dmsetup resume cs_live
check "live view switched to linear keeps the data" same_dev /dev/mapper/cs_live /tmp/expected $LEN
dmsetup remove cs_live

# ---- transient stores: a merge takes its batches from the index ----
tviews() { wipe_store $STORE && views "$1" 8 "1 transient" "1 transient"; }
[ $TBATCH = 1012 ] || echo 0 >$PARAM
# tmerge WHAT OP: OP on cs_live with writes while it merges; the live
# view, then the origin alone, hold /tmp/expected.
tmerge() {
	must "$1 $2 accepted" dmsetup message cs_live 0 "$2"
	scribble $((WRITES / 2))
	must "$1 $2 ends" wait_state cs_live ended
	check "$1 $2: live view holds the expected data" \
		same_dev /dev/mapper/cs_live /tmp/expected $LEN
	down
	check "$1 $2: the origin alone holds it" same_dev $O /tmp/expected $LEN
}
cp /tmp/expected /tmp/ref
must "transient cow views" tviews cow
scribble $WRITES
check "transient cow: more exceptions than one merge batch ($TBATCH)" \
	test "$(cowsnap_field cs_live 4)" -gt $TBATCH
cp /tmp/ref /tmp/expected		# after the rollback: the snapshot...
tmerge "transient cow" rollback		# ...plus what is written meanwhile
cp /tmp/expected /tmp/ref
must "transient row views" tviews row
scribble $WRITES
check "transient row: origin untouched" same_dev $O /tmp/ref $LEN
check "transient row: more exceptions than one merge batch ($TBATCH)" \
	test "$(cowsnap_field cs_live 4)" -gt $TBATCH
tmerge "transient row" fold
echo 0 >$PARAM
dmsetup remove cs_origin
finish
