#!/bin/sh
# The cowsnap tool against the real module: its table lines load as they
# are, its status reads real devices, and it refuses what it must.
. /tests/vm/lib.sh
plan 9

LEN=$(sectors $ORIGIN)
wipe_store $STORE
is "table line for the live view" "$(cowsnap table -o $ORIGIN -s $STORE)" \
	"0 $LEN cowsnap $ORIGIN $STORE cow 8 live"
load() {
	dm_create t_live "$(cowsnap table -o $ORIGIN -s $STORE -m cow -c 16)" &&
	dm_create t_snap "$(cowsnap table -o $ORIGIN -s $STORE -m cow -c 16 --view snap)"
}
must "the tool's lines load unchanged" load
is "the kernel prints the same table" "$(dmsetup table t_snap | cut -d' ' -f1-3,6-)" "0 $LEN cowsnap cow 16 snap"
dd if=/dev/urandom of=/dev/mapper/t_live bs=64k count=10 conv=fsync 2>/dev/null
check "status names the device and its state" sh -c "cowsnap status t_snap | grep -qE '^t_snap +cow +snap +valid'"
check "status --json reports used chunks" sh -c "cowsnap status t_snap --json | grep -q '\"used_chunks\": $(cowsnap_field t_snap 4),'"
cowsnap status nosuch >/dev/null 2>&1
is "status of a missing device exits 4" "$?" 4
dmsetup remove t_snap && dmsetup remove t_live
/sbin/mke2fs -q -t ext4 -F $SCRATCH 65536 >/dev/null 2>&1
cowsnap table -o $ORIGIN -s $SCRATCH >/dev/null 2>/tmp/err
is "a store holding ext4 is refused with exit 3" "$?" 3
check "and the message names the signature" grep -q 'ext4' /tmp/err
cowsnap table -o $ORIGIN -s $ORIGIN >/dev/null 2>&1
is "origin equal to the store exits 2" "$?" 2
finish
