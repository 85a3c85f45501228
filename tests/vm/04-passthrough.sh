#!/bin/sh
# Until the store is used, the live view passes I/O through to the origin
# and the snapshot view reads the origin and refuses writes.  Data is
# checked byte for byte at several offsets and sizes.
. /tests/vm/lib.sh
plan 8

LEN=$(sectors $ORIGIN)
dm_create cs_live "0 $LEN cowsnap $ORIGIN $STORE cow 8 live"
dm_create cs_snap "0 $LEN cowsnap $ORIGIN $STORE cow 8 snap"
random_file /tmp/data 1024

# sector offset, sectors: aligned, unaligned, crossing chunks, the last chunk
for w in "0 8" "13 3" "1001 700" "$((LEN - 2048)) 2048"; do
	set -- $w
	dd if=/tmp/data of=/dev/mapper/cs_live bs=512 seek="$1" count="$2" conv=fsync 2>/dev/null
	check "write of $2 sectors at $1 reaches the origin" \
		same_range /tmp/data 0 $ORIGIN "$1" "$2"
done
check "snapshot view reads the origin" same_range /dev/mapper/cs_snap 1001 $ORIGIN 1001 700
before=$(read_range $ORIGIN 64 8 | md5sum)
if dd if=/dev/zero of=/dev/mapper/cs_snap bs=4096 seek=8 count=1 oflag=direct 2>/dev/null; then
	not_ok "write to the snapshot view is refused"
else
	ok "write to the snapshot view is refused"
fi
is "origin untouched by the refused write" "$(read_range $ORIGIN 64 8 | md5sum)" "$before"
check "views removed" sh -c "dmsetup remove cs_snap && dmsetup remove cs_live"
finish
