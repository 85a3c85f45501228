#!/bin/sh
# Both views load over one origin/store pair, share one state, and
# report their table (an exact round trip) and status.
. /tests/vm/lib.sh
plan 12

LEN=$(sectors $ORIGIN)
O=$(devno $ORIGIN)
S=$(devno $STORE)
STORE_CHUNKS=$(( $(sectors $STORE) / 64 ))

check "live view created" dm_create cs_live "0 $LEN cowsnap $ORIGIN $STORE cow 64 live"
check "snapshot view created" dm_create cs_snap "0 $LEN cowsnap $ORIGIN $STORE cow 64 snap 3 low_water 100 transient"
is "live table" "$(dmsetup table cs_live)" "0 $LEN cowsnap $O $S cow 64 live"
is "snap table: features in canonical order" "$(dmsetup table cs_snap)" \
	"0 $LEN cowsnap $O $S cow 64 snap 3 transient low_water 100"
is "live status" "$(dmsetup status cs_live)" "0 $LEN cowsnap cow live passthrough 0 $STORE_CHUNKS 0 -"
is "snap status" "$(dmsetup status cs_snap)" "0 $LEN cowsnap cow snap passthrough 0 $STORE_CHUNKS 0 -"

# Round trip: the printed table loads back and prints the same.
t=$(dmsetup table cs_snap)
check "printed table reloads" dmsetup load cs_snap --table "$t"
check "reloaded table resumes" dmsetup resume cs_snap
is "reloaded table is identical" "$(dmsetup table cs_snap)" "$t"

check "row views load on a fresh pair after removal" sh -c "
	dmsetup remove cs_snap && dmsetup remove cs_live &&
	dmsetup create cs_row --table '0 $LEN cowsnap $ORIGIN $STORE row 2048 live 1 reformat'"
is "row table" "$(dmsetup table cs_row)" "0 $LEN cowsnap $O $S row 2048 live 1 reformat"
check "removed" dmsetup remove cs_row
finish
