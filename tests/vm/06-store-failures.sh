#!/bin/sh
# The store fills up or fails: the snapshot becomes invalid (recorded in
# the store), a table event is raised, the live view keeps every write,
# the snapshot view fails I/O, and the kernel shows no splat.  A low-water
# mark raises an event first; a reload over a grown store uses the space.
. /tests/vm/lib.sh
plan 23

OLEN=32768		# 16 MiB origin
dm_create cs_o "0 $OLEN linear $ORIGIN 0"
dd if=/dev/urandom of=/dev/mapper/cs_o bs=1M count=16 conv=fsync 2>/dev/null
dd if=/dev/mapper/cs_o of=/tmp/expected bs=1M count=16 2>/dev/null
cp /tmp/expected /tmp/snapref
random_file /tmp/rand 4096

events() { dmsetup info "$1" | awk '/Event number/ {print $3}'; }
# write_chunks FIRST COUNT: first writes to COUNT whole chunks (one dd).
write_chunks() {
	rnd_set $((1024 - $2))	# /tmp/rand holds 1024 chunks
	dd if=/tmp/rand of=/dev/mapper/cs_live bs=4096 skip="$R" seek="$1" count="$2" conv=notrunc,fsync 2>/dev/null &&
	dd if=/tmp/rand of=/tmp/expected bs=4096 skip="$R" seek="$1" count="$2" conv=notrunc 2>/dev/null
}
pair() {	# STORE_DEV [features]: the two views over cs_o
	dm_create cs_live "0 $OLEN cowsnap /dev/mapper/cs_o $1 cow 8 live $2" &&
	dm_create cs_snap "0 $OLEN cowsnap /dev/mapper/cs_o $1 cow 8 snap $2"
}
unpair() { dmsetup remove cs_snap && dmsetup remove cs_live; }

# ---- low water, growth, then store full ----
dm_create cs_st "0 2048 linear $STORE 0"		# 1 MiB: 253 data chunks
wipe_store /dev/mapper/cs_st
must "views over a 1 MiB store, low_water 100" pair /dev/mapper/cs_st "2 low_water 100"
e0=$(events cs_live)
write_chunks 0 150
is "no event while 103 chunks are free" "$(events cs_live)" "$e0"
write_chunks 150 10
check "low-water event raised below 100 free chunks" test "$(events cs_live)" -gt "$e0"
is "still valid" "$(cowsnap_field cs_live 3)" "valid"

dmsetup suspend cs_st
dmsetup load cs_st --table "0 4096 linear $STORE 0"	# grow to 2 MiB
dmsetup resume cs_st
t=$(dmsetup table cs_live)
dmsetup load cs_live --table "$t" && dmsetup resume cs_live
is "a reload sees the grown store" "$(cowsnap_field cs_live 5)" "512"
write_chunks 160 300
# 460 data chunks in two areas: superblock + 2 x 2 metadata chunks + 460
is "the grown store took 300 more chunks" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 4)" "valid 465"
check "snapshot view equals the origin's old data" same_dev /dev/mapper/cs_snap /tmp/snapref $OLEN
e1=$(events cs_live)
write_chunks 460 100
is "store full: invalid" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 7)" "invalid store_full"
check "store full raised an event" test "$(events cs_live)" -gt "$e1"
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $OLEN
if read_range /dev/mapper/cs_snap 0 8 >/dev/null 2>&1; then
	not_ok "the invalid snapshot view fails reads"
else
	ok "the invalid snapshot view fails reads"
fi
unpair
must "reactivation over the full store" pair /dev/mapper/cs_st
is "the invalid state was recorded on disk" "$(cowsnap_field cs_snap 3) $(cowsnap_field cs_snap 7)" "invalid store_full"
unpair
dmsetup remove cs_st

# ---- a store I/O error ----
cp /tmp/expected /tmp/snapref
dm_create cs_st "0 16384 linear $STORE 8192"
wipe_store /dev/mapper/cs_st
must "views over a fresh 8 MiB store" pair /dev/mapper/cs_st
write_chunks 0 20
check "snapshot view before the failure" same_dev /dev/mapper/cs_snap /tmp/snapref $OLEN
dmsetup suspend cs_st
dmsetup load cs_st --table "0 16384 error"
dmsetup resume cs_st
e1=$(events cs_snap)
write_chunks 20 5
is "store I/O error: invalid" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 7)" "invalid store_io_error"
check "the I/O error raised an event" test "$(events cs_snap)" -gt "$e1"
check "live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $OLEN
unpair
dmsetup remove cs_st

# ---- unreadable metadata ----
# Both copies of exception block 0 are metadata blocks 1 and 2, that is
# store sectors 8-15 and 16-23: an error segment over them makes them
# unreadable, the rest stays the same.
store_table() {	# the 8 MiB store, its sectors 8-23 failing if $1 is "bad"
	if [ "$1" = bad ]; then
		error_table "$STORE" 8192 16384 8 16
	else
		printf '0 16384 linear %s 8192\n' "$STORE"
	fi
}
cp /tmp/expected /tmp/snapref
dm_create cs_st "$(store_table good)"
wipe_store /dev/mapper/cs_st
pair /dev/mapper/cs_st && write_chunks 0 5 && unpair
store_table bad | dmsetup load cs_st && dmsetup resume cs_st
if read_range /dev/mapper/cs_st 8 8 >/dev/null 2>&1; then
	not_ok "the store's sectors 8-15 read though they should fail"
else
	ok "the store's sectors 8-15 fail reads"
fi
refused "reactivation over unreadable metadata" "Cannot read the store metadata" \
	"0 $OLEN cowsnap /dev/mapper/cs_o /dev/mapper/cs_st cow 8 live"
store_table good | dmsetup load cs_st && dmsetup resume cs_st
check "readable again: reactivation works" pair /dev/mapper/cs_st
check "the snapshot view holds the origin's old data" same_dev /dev/mapper/cs_snap /tmp/snapref $OLEN
check "the live view holds every write" same_dev /dev/mapper/cs_live /tmp/expected $OLEN
unpair
dmsetup remove cs_st
dmsetup remove cs_o
finish
