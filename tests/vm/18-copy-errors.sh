#!/bin/sh
# Origin read errors while chunks are copied, in both modes, over the
# RAM disk (copies end while the worker starts them) and over the
# virtio disks (they end from an interrupt).  Two chunks of the origin
# fail every I/O (a dm "error" segment); first writes to the chunks
# around them run at once, so that their copies go out together, and
# one copy to the store may carry chunks read and chunks whose read
# failed (Documentation/dm-cowsnap.rst, Copies).
# - row: a partial first write fills its chunk from the origin: a fill
#   whose read failed fails its write, and nothing else; the other
#   writes land whole, also after reactivation.
# - cow: a copy whose read failed invalidates the snapshot; the live
#   view goes on.
# Then a lone first write in each mode, from this shell with nothing
# else in flight: over the RAM disk map() does it itself
# (Documentation/dm-cowsnap.rst, Queue depth 1), over virtio the worker
# finishes it: one to a chunk the origin reads lands, one to a failing
# chunk fails (row) or invalidates the snapshot (cow).
. /tests/vm/lib.sh
RAM=/dev/ram0
plan 48

LEN=16384		# 8 MiB origin, chunks of 4 KiB (8 sectors)
FIRST=96 LAST=105	# chunks written at once
BAD1=100 BAD2=101	# chunks the origin fails

# origin DEV: cs_o over DEV with chunks BAD1 and BAD2 failing; the data
# of DEV in /tmp/ref.
origin() {
	dd if=/dev/urandom of="$1" bs=1M count=8 conv=fsync 2>/dev/null &&
	dd if="$1" of=/tmp/ref bs=1M count=8 2>/dev/null || return 1
	error_table "$1" 0 $LEN $((BAD1 * 8)) 16 |
		dmsetup create cs_o && dmsetup mknodes cs_o
}

# write_chunks BS: a BS-byte write at the start of each chunk c from
# FIRST to LAST, every byte c, sent while the live view is suspended
# (noflush): dm core holds them and sends them on at the resume, one
# after the other from one work item, so that the worker finds them
# all in one pass and their copies go out together.  fio, as busybox's
# dd goes through the page cache when its buffer does not suit
# O_DIRECT.  Each exit status in /tmp/st.c; the expected image /tmp/exp
# gets the writes to the chunks the origin does not fail.  Fails if the
# writes were not all held.
write_chunks() {
	cp /tmp/ref /tmp/exp
	dmsetup suspend --noflush cs_live || return 1
	c=$FIRST pids=
	while [ $c -le $LAST ]; do
		fio --name=w --filename=/dev/mapper/cs_live --rw=write --bs="$1" \
		    --size="$1" --offset=$((c * 4096)) --direct=1 --thread \
		    --ioengine=psync --buffer_pattern=0x$(printf %02x $c) --eta=never \
		    --output=/dev/null &
		eval "pid_$c=$!"
		pids="$pids $!"
		if [ $c != $BAD1 ] && [ $c != $BAD2 ]; then
			head -c "$1" /dev/zero | tr '\0' "\\$(printf %03o $c)" |
				dd of=/tmp/exp bs="$1" seek=$((c * 4096 / $1)) \
				   conv=notrunc 2>/dev/null
		fi
		c=$((c + 1))
	done
	n=0 held=0
	while [ $n -lt 300 ]; do	# 30 s
		all_waiting $pids && held=1 && break
		sleep 0.1
		n=$((n + 1))
	done
	dmsetup resume cs_live
	c=$FIRST
	while [ $c -le $LAST ]; do
		eval "wait \$pid_$c"
		echo $? >/tmp/st.$c
		c=$((c + 1))
	done
	[ $held = 1 ]
}
# all_waiting PID...: a thread of every process waits in the kernel
# (state D): fio's job, for its write.
all_waiting() {
	for p in "$@"; do
		cat /proc/"$p"/task/*/stat 2>/dev/null | grep -q ') D ' || return 1
	done
}
# statuses GOOD|BAD: the exit status of each write to the chunks the
# origin does not fail (GOOD: all 0), or of the two it fails (BAD: not 0).
statuses() {
	c=$FIRST
	while [ $c -le $LAST ]; do
		st=$(cat /tmp/st.$c)
		if [ $c = $BAD1 ] || [ $c = $BAD2 ]; then
			[ "$1" = GOOD ] || [ "$st" != 0 ] || return 1
		else
			[ "$1" = BAD ] || [ "$st" = 0 ] || return 1
		fi
		c=$((c + 1))
	done
}
# readable VIEW: the view reads as /tmp/exp everywhere but in the two
# chunks the origin fails.
readable() {
	same_range "$1" 0 /tmp/exp 0 $((BAD1 * 8)) &&
	same_range "$1" $((BAD1 * 8 + 16)) /tmp/exp $((BAD1 * 8 + 16)) \
		$((LEN - BAD1 * 8 - 16))
}
snap_fails() { ! /usr/bin/dd if=/dev/mapper/cs_snap of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; }

GOOD=50			# a chunk the origin reads, outside FIRST..LAST
# lone_write CHUNK BYTES: one direct write of BYTES (/tmp/lone, every
# byte 0xee) at the start of CHUNK of the live view, from this shell.
lone_write() {
	head -c "$2" /dev/zero | tr '\0' '\356' >/tmp/lone &&
	/usr/bin/dd if=/tmp/lone of=/dev/mapper/cs_live bs="$2" \
		seek=$(($1 * 4096 / $2)) oflag=direct conv=notrunc 2>/dev/null
}
lone_fails() { ! lone_write "$@"; }
# lone_landed VIEW BYTES: chunk GOOD of VIEW holds /tmp/lone, then
# the origin's data (/tmp/ref) to the end of the chunk.
lone_landed() {
	same_range "$1" $((GOOD * 8)) /tmp/lone 0 $(($2 / 512)) &&
	same_range "$1" $((GOOD * 8 + $2 / 512)) /tmp/ref \
		$((GOOD * 8 + $2 / 512)) $((8 - $2 / 512))
}

# run NAME ORIGIN_DEV STORE_DEV
run() {
	must "$1: origin with two failing chunks" origin "$2"
	O=/dev/mapper/cs_o
	live="0 $LEN cowsnap $O $3 row 8 live"

	wipe_store "$3"
	must "$1 row: live view" dm_create cs_live "$live"
	check "$1 row: partial first writes held by the suspended view, sent at once" write_chunks 2048
	check "$1 row: partial first writes around the failing chunks land" statuses GOOD
	check "$1 row: those to the failing chunks fail" statuses BAD
	is "$1 row: the state stays valid" "$(cowsnap_field cs_live 3)" valid
	check "$1 row: the live view holds every write that landed" readable /dev/mapper/cs_live
	check "$1 row: the origin is untouched" same_dev "$2" /tmp/ref $LEN
	blockdev --flushbufs /dev/mapper/cs_live
	dmsetup remove cs_live
	must "$1 row: live view reactivated" dm_create cs_live "$live"
	check "$1 row: after reactivation, every write that landed" readable /dev/mapper/cs_live
	check "$1 row: a lone partial first write lands" lone_write $GOOD 2048
	check "$1 row: the rest of its chunk is filled from the origin" lone_landed /dev/mapper/cs_live 2048
	check "$1 row: a lone partial first write to a failing chunk fails" lone_fails $BAD2 2048
	dmsetup remove cs_live

	wipe_store "$3"
	must "$1 cow: views" sh -c "dmsetup create cs_live --table '0 $LEN cowsnap $O $3 cow 8 live' &&
		dmsetup create cs_snap --table '0 $LEN cowsnap $O $3 cow 8 snap' && dmsetup mknodes"
	check "$1 cow: first writes held by the suspended view, sent at once" write_chunks 4096
	check "$1 cow: first writes around the failing chunks land" statuses GOOD
	is "$1 cow: a copy that could not read the origin invalidates the snapshot" \
		"$(cowsnap_field cs_live 3)" invalid
	check "$1 cow: the live view holds every write that landed" readable /dev/mapper/cs_live
	check "$1 cow: the snapshot view fails" snap_fails
	dmsetup remove cs_snap && dmsetup remove cs_live

	wipe_store "$3"
	must "$1 cow: fresh views" sh -c "dmsetup create cs_live --table '0 $LEN cowsnap $O $3 cow 8 live' &&
		dmsetup create cs_snap --table '0 $LEN cowsnap $O $3 cow 8 snap' && dmsetup mknodes"
	check "$1 cow: a lone first write lands" lone_write $GOOD 4096
	check "$1 cow: the live view reads it" lone_landed /dev/mapper/cs_live 4096
	check "$1 cow: the snapshot view keeps the chunk's old data" \
		same_range /dev/mapper/cs_snap $((GOOD * 8)) /tmp/ref $((GOOD * 8)) 8
	lone_write $BAD1 4096
	is "$1 cow: a lone first write whose copy cannot read invalidates the snapshot" \
		"$(cowsnap_field cs_live 3)" invalid
	dmsetup remove cs_snap && dmsetup remove cs_live && dmsetup remove cs_o
}
dm_create cs_ram_o "0 $LEN linear $RAM 0"
dm_create cs_ram_s "0 $((LEN * 2)) linear $RAM $LEN"
run ram /dev/mapper/cs_ram_o /dev/mapper/cs_ram_s
dmsetup remove cs_ram_s && dmsetup remove cs_ram_o
run virtio "$ORIGIN" "$STORE"
finish
