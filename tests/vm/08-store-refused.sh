#!/bin/sh
# Wrong or damaged stores are refused with a message saying what was
# expected and found, and never reformatted: each superblock field, an
# exception-block checksum, a foreign signature, a truncated store, a
# store made for another origin.  Then the good store reactivates intact.
. /tests/vm/lib.sh
plan 20

OLEN=32768		# 16 MiB origin
SLEN=16384		# 8 MiB store
dm_create cs_o "0 $OLEN linear $ORIGIN 0"
dm_create cs_st "0 $SLEN linear $STORE 0"
ST=/dev/mapper/cs_st
wipe_store $ST
dd if=/dev/urandom of=/dev/mapper/cs_o bs=1M count=16 conv=fsync 2>/dev/null
read_range /dev/mapper/cs_o 0 $OLEN >/tmp/ref
LIVE="0 $OLEN cowsnap /dev/mapper/cs_o $ST cow 8 live"

# 300 first writes, last chunk first (no two in a row, so 300 entries):
# exception block 0 full, block 1 in use.
dm_create cs_live "$LIVE"
c=0
while [ $c -lt 300 ]; do
	dd if=/dev/urandom of=/dev/mapper/cs_live bs=4k seek=$((299 - c)) count=1 conv=fsync 2>/dev/null
	c=$((c + 1))
done
dmsetup remove cs_live
read_range $ST 0 4096 >/tmp/good		# the first 2 MiB of the store

restore() { dd if=/tmp/good of=$ST bs=1M conv=notrunc,fsync 2>/dev/null; }
# poke OFFSET: change one byte of the store (to another value).
poke() {
	flush_dev $ST
	old=$(dd if=$ST bs=1 skip="$1" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %03o $(( (old + 1) % 256 )))" |
		dd of=$ST bs=1 seek="$1" conv=notrunc,fsync 2>/dev/null
}
# damaged DESC OFFSET EXPECTED: restore, poke OFFSET, must be refused.
damaged() {
	restore
	poke "$2"
	refused "$1" "$3" "$LIVE"
}

damaged "superblock checksum" 0 "Store superblock is corrupt"
damaged "superblock block type" 4 "bad block type: expected 1"
damaged "superblock magic" 8 "Store is not a cowsnap store"
damaged "superblock location" 16 "checksum mismatch"
damaged "superblock generation" 24 "Store superblock is corrupt"
damaged "superblock version" 32 "Store superblock is corrupt"
damaged "superblock incompat flags" 44 "Store superblock is corrupt"
damaged "superblock uuid" 50 "Store superblock is corrupt"
damaged "superblock mode" 64 "Store superblock is corrupt"
damaged "superblock chunk size" 76 "Store superblock is corrupt"
damaged "superblock origin size" 80 "Store superblock is corrupt"
damaged "superblock reserved bytes" 300 "Store superblock is corrupt"
restore
poke 4200					# exception block 0, copy 0
poke 8300					# and copy 1
refused "both copies of an exception block" "Store metadata is corrupt" "$LIVE"
restore
dm_create cs_o2 "0 16384 linear $ORIGIN 0"
refused "a store made for another origin size" "store origin size mismatch: origin has 16384 sectors, store was made for 32768" \
	"0 16384 cowsnap /dev/mapper/cs_o2 $ST cow 8 live"
dmsetup remove cs_o2
dmsetup suspend cs_st && dmsetup load cs_st --table "0 1024 linear $STORE 0" && dmsetup resume cs_st
refused "a truncated store" "Store device is smaller than the data it holds" "$LIVE"
dmsetup suspend cs_st && dmsetup load cs_st --table "0 $SLEN linear $STORE 0" && dmsetup resume cs_st

/sbin/mke2fs -q -t ext4 -F $ST 4096 2>/dev/null
refused "a store holding ext4" "Store is not a cowsnap store" "$LIVE"
check "the ext4 store was not touched" fsck_clean $ST

restore
must "the good store reactivates" dm_create cs_snap "0 $OLEN cowsnap /dev/mapper/cs_o $ST cow 8 snap"
check "its snapshot view equals the reference" same_dev /dev/mapper/cs_snap /tmp/ref $OLEN
is "with every exception" "$(cowsnap_field cs_snap 4)" "$((1 + 2 * 2 + 300))"
dmsetup remove cs_snap
dmsetup remove cs_st
dmsetup remove cs_o
finish
