#!/bin/sh
# Run entries on disk (INCOMPAT_RUNS): a store the module formats has the
# feature, and an exception entry there stands for up to 256 chunks in a
# row on both devices; each commit grows the last entry while writes
# carry its run on (so committed entries grow in later commits).  Exact
# entry counts from the offline dump, exact data through reactivation,
# rollback and fold.  A store made as before the feature (mkstore, no
# flag) keeps one entry per chunk and works as it did.
. /tests/vm/lib.sh
plan 47

PARAM=/sys/module/dm_cowsnap/parameters/merge_batch
# seq_writes DEV FROM_KIB KIB BS_KIB: sequential writes from /tmp/src,
# each direct and synchronous (REQ_FUA: a commit each), also applied to
# /tmp/expected.
seq_writes() {
	/usr/bin/dd if=/tmp/src of="$1" bs="$4"k count=$(($3 / $4)) \
		seek=$(($2 / $4)) oflag=direct,dsync status=none &&
	/usr/bin/dd if=/tmp/src of=/tmp/expected bs="$4"k \
		count=$(($3 / $4)) seek=$(($2 / $4)) conv=notrunc status=none
}
# dumped FIELD...: the values of the dump's fields, on one line.
dumped() {
	cowsnap dump "$ST" >/tmp/dump || return 1
	for f in "$@"; do
		awk -v k="$f" '$1 == k { printf "%s ", $2 }' /tmp/dump
	done | sed 's/ $//'
}
down() { remove_devs cs_snap cs_live; }
# fresh MODE CHUNK FROM_KIB KIB BS_KIB: views over a blank store, the
# writes (seq_writes), both views checked, the views down.
fresh() {
	wipe_store $ST
	must "$1 views on a blank store, chunks of $2 sectors" \
		views_up "$1" $O $ST "$2" $LEN
	must "$4 KiB in $5 KiB synchronous writes" \
		seq_writes /dev/mapper/cs_live "$3" "$4" "$5"
	check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
	check "snapshot view is the origin as it was" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
	down
}
# merged OP REF: OP (fold or rollback) as a merge in batches of 100
# chunks (they start and end inside entries), the views down, then the
# origin alone must hold REF.
merged() {
	must "merge batches of 100" sh -c "echo 100 >$PARAM"
	must "$1 accepted" dmsetup message cs_live 0 "$1"
	must "$1 ends" wait_state cs_live ended
	echo 0 >$PARAM
	down
	check "after the $1 the origin holds what it must" same_dev $O "$2" $LEN
}

origin_setup 16
random_file /tmp/src 16384
cp /tmp/expected /tmp/ref
dm_create cs_st "0 65536 linear $STORE 0"
ST=/dev/mapper/cs_st

# Writes one chunk at a time where a write would cross an area: the two
# pending exceptions of such a write may end in either order, and an
# entry grows only while the commit order carries its run on.

# ---- row, 4 KiB chunks: runs end where an area's 253 data chunks do ----
fresh row 8 0 1024 4
is "the feature, 256 exceptions, 2 entries (253 + 3)" \
	"$(dumped incompat_flags exceptions exception_entries problem)" "2 256 2 -"
must "row views again" views_up row $O $ST 8 $LEN
must "4 MiB more, carrying the run on" seq_writes /dev/mapper/cs_live 1024 4096 4
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
down
is "1280 exceptions in 6 entries (one per area)" \
	"$(dumped exceptions exception_entries nr_exceptions)" "1280 6 1280"
must "row views reactivated" views_up row $O $ST 8 $LEN
check "reactivated live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "snapshot view is the origin" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
merged fold /tmp/expected
cp /tmp/expected /tmp/ref

# ---- row, 64 KiB chunks: an entry holds 256 chunks at most ----
fresh row 128 0 16384 1024
is "256 exceptions in 1 entry" "$(dumped exceptions exception_entries)" "256 1"
must "row views reactivated" views_up row $O $ST 128 $LEN
must "rollback" dmsetup message cs_live 0 rollback
check "rolled back: the live view is the origin" same_dev /dev/mapper/cs_live /tmp/ref $LEN
cp /tmp/ref /tmp/expected
down

# ---- cow, 4 KiB chunks: copies of a run commit as one entry too ----
fresh cow 8 2048 1024 4
is "256 exceptions, 2 entries" "$(dumped exceptions exception_entries)" "256 2"
must "cow views reactivated" views_up cow $O $ST 8 $LEN
check "reactivated snapshot view is the origin as it was" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
merged rollback /tmp/ref
cp /tmp/ref /tmp/expected

# ---- a store without the feature (mkstore: 4 MiB origin, 511 chunks) ----
dmsetup remove cs_st
dm_create cs_st "0 4088 linear $STORE 0"
dm_create cs_o4 "0 8192 linear $O 0"
for mode in row cow; do
	kind=empty; [ $mode = row ] && kind=empty-row
	cp /tmp/ref /tmp/expected
	mkstore /tmp/img $kind && dd if=/tmp/img of=$ST bs=1M conv=fsync 2>/dev/null
	must "$mode views on a store without the feature" \
		views_up $mode /dev/mapper/cs_o4 $ST 8 8192
	must "1 MiB in 4 KiB synchronous writes" seq_writes /dev/mapper/cs_live 0 1024 4
	down
	is "$mode: no feature added, one entry per chunk" \
		"$(dumped incompat_flags exceptions exception_entries problem)" "0 256 256 -"
	must "$mode views reactivated" views_up $mode /dev/mapper/cs_o4 $ST 8 8192
	check "$mode: live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected 8192
	check "$mode: snapshot view is the origin as it was" same_dev /dev/mapper/cs_snap /tmp/ref 8192
	down
done
remove_devs cs_st cs_o4 cs_origin
finish
