#!/bin/sh
# A quick side-by-side measurement of copy-on-write, until make bench
# exists: 4 KiB random first writes on a fresh snapshot (queue depth 1 and
# 32), writes to chunks already copied, and random reads of the snapshot
# view, for the raw device, dm-snapshot (persistent, 4 KiB chunks) and
# cowsnap (cow, 4 KiB chunks), all on a brd RAM disk inside the VM.
# Same seeds and sizes everywhere: each run writes every block of the
# region once.  Prints one line per figure, and I/O amplification from
# /sys/block/ram0/stat.
. /tests/vm/lib.sh
RAM=/dev/ram0
SZ=${SZ:-32}		# MiB written per run
OLEN=$((128 * 2048))
SLEN=$((256 * 2048))

iops() {	# fio output -> IOPS as a number
	grep -o 'IOPS=[0-9.]*[k]*' "$1" | head -1 | sed 's/IOPS=//' |
		awk '/k$/ {sub("k", ""); print $1 * 1000; next} {print $1}'
}
run_fio() {	# DEV RW DEPTH -> IOPS
	if [ "$3" = 1 ]; then eng=psync; else eng=libaio; fi
	fio --name=b --filename="$1" --rw="$2" --bs=4k --direct=1 --ioengine=$eng \
	    --iodepth="$3" --size=${SZ}M --randseed=1234 --eta=never \
	    --output=/tmp/fio.out >/dev/null 2>&1 || { echo 0; return; }
	iops /tmp/fio.out
}
# Sectors read + written on the origin and store slices (brd keeps no
# statistics of its own).
ram_io() {
	for d in b_o b_s; do
		cat "/sys/block/dm-$(dmsetup info -c --noheadings -o minor $d)/stat"
	done | awk '{n += $3 + $7} END {print n}'
}

slices() {
	dm_create b_o "0 $OLEN linear $RAM 0"
	dm_create b_s "0 $SLEN linear $RAM $OLEN"
	dd if=/dev/zero of=/dev/mapper/b_s bs=1M count=1 conv=fsync 2>/dev/null
}
down() { for d in "$@"; do dmsetup remove "$d"; done; }

setup_raw() { slices; LIVE=/dev/mapper/b_o; SNAP=/dev/mapper/b_o; }
down_raw() { down b_s b_o; }
views() {	# LIVE_TABLE SNAP_TABLE
	slices
	dm_create b_live "$1"
	dm_create b_snap "$2"
	LIVE=/dev/mapper/b_live; SNAP=/dev/mapper/b_snap
}
setup_dmsnap() {
	views "0 $OLEN snapshot-origin /dev/mapper/b_o" \
	      "0 $OLEN snapshot /dev/mapper/b_o /dev/mapper/b_s P 8"
}
setup_cowsnap() {
	views "0 $OLEN cowsnap /dev/mapper/b_o /dev/mapper/b_s cow 8 live" \
	      "0 $OLEN cowsnap /dev/mapper/b_o /dev/mapper/b_s cow 8 snap"
}
down_dmsnap() { down b_snap b_live b_s b_o; }
down_cowsnap() { down_dmsnap; }

for t in raw dmsnap cowsnap; do
	for depth in 1 32; do
		setup_$t
		io0=$(ram_io)
		first=$(run_fio $LIVE randwrite $depth)
		amp=$(awk -v a="$(ram_io)" -v b="$io0" -v s=$SZ 'BEGIN {printf "%.2f", (a - b) / (s * 2048)}')
		again=$(run_fio $LIVE randwrite $depth)
		reads=$(run_fio $SNAP randread $depth)
		echo "bench $t qd$depth first_write_iops=$first rewrite_iops=$again snap_read_iops=$reads io_per_byte_first=$amp"
		down_$t
	done
done
