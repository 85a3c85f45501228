#!/bin/sh
# Both views load over one origin/store pair, share one state, and
# report their table (an exact round trip) and status.
. /tests/vm/lib.sh
plan 14

LEN=$(sectors $ORIGIN)
O=$(devno $ORIGIN)
S=$(devno $STORE)
X=$(devno $SCRATCH)
wipe_store $STORE
wipe_store $SCRATCH

must "live view created" dm_create cs_live "0 $LEN cowsnap $ORIGIN $STORE cow 64 live"
must "snapshot view created" dm_create cs_snap "0 $LEN cowsnap $ORIGIN $STORE cow 64 snap 2 LOW_WATER 100"
is "live table" "$(dmsetup table cs_live)" "0 $LEN cowsnap $O $S cow 64 live"
is "snap table: features canonical" "$(dmsetup table cs_snap)" "0 $LEN cowsnap $O $S cow 64 snap 2 low_water 100"
TOTAL=$(( $(sectors $STORE) / 64 ))
is "live status of a fresh store" "$(dmsetup status cs_live)" "0 $LEN cowsnap cow live valid 1 $TOTAL 1 - - -"
is "snap status of a fresh store" "$(dmsetup status cs_snap)" "0 $LEN cowsnap cow snap valid 1 $TOTAL 1 - - -"

# Round trip: the printed table loads back and prints the same.
t=$(dmsetup table cs_snap)
check "printed table reloads" dmsetup load cs_snap --table "$t"
check "reloaded table resumes" dmsetup resume cs_snap
is "reloaded table is identical" "$(dmsetup table cs_snap)" "$t"
dmsetup remove cs_snap
dmsetup remove cs_live

check "transient views load" dm_create cs_tlive "0 $LEN cowsnap $ORIGIN $SCRATCH cow 8 live 1 transient"
is "transient table" "$(dmsetup table cs_tlive)" "0 $LEN cowsnap $O $X cow 8 live 1 transient"
is "transient status: no metadata" "$(cowsnap_field cs_tlive 3) $(cowsnap_field cs_tlive 6)" "valid 0"
dmsetup remove cs_tlive

check "reformat loads over a formatted store" dm_create cs_live "0 $LEN cowsnap $ORIGIN $STORE cow 16 live 1 reformat"
is "reformat table" "$(dmsetup table cs_live)" "0 $LEN cowsnap $O $S cow 16 live 1 reformat"
dmsetup remove cs_live
finish
