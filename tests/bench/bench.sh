#!/bin/sh
# make bench, the guest side: fio on a brd RAM disk (or the virtio disk
# vdc) for the raw device,
# dm-snapshot, dm-thin and cowsnap (cow and row), then the time of a
# rollback, a fold and dm-snapshot's merge, then kernel memory per
# exception.  Prints raw figures only; the host turns them into tables
# (tests/bench/bench.py).  Records on stdout (the job log):
#
#   @@bench key=value...                 sizes and settings of this run
#                                        (device: brd or virtio)
#   @@fio CONFIG WORKLOAD RUN            then fio's JSON, then @@end
#   @@io CONFIG WORKLOAD RUN READ WRITE READS WRITES  sectors read and
#                                        written on the devices under the
#                                        views (the dm linear slices over
#                                        brd), and the requests that did
#   @@op CONFIG OP RUN SECONDS MIB [COPY] a rollback, fold or merge of MIB;
#                                        COPY: a cowsnap merge's own time
#                                        (its log, begin to end), seconds
#   @@beside CONFIG WHAT RUN             then fio's JSON, then @@end: the
#                                        same fio job on the reference
#                                        slice of the disk, right
#                                        before and right after a cowsnap
#                                        figure with a target against raw
#                                        (WHAT: the workload; for a
#                                        merge, the operation and 1 MiB
#                                        sequential writes of MIB)
#   @@snapbeside CONFIG WHAT RUN         then fio's JSON, then @@end: the
#                                        same first-write job on a fresh
#                                        dm-snapshot of the reference
#                                        slice, right before and right
#                                        after a figure with a target
#                                        against dm-snapshot
#   @@mem CONFIG EXCEPTIONS RUN STAGE key=value...   /proc/meminfo and
#                                        slab caches: before, created, filled
#   @@na CONFIG REASON                   a configuration that cannot run
#   @@fail CONFIG WHAT RUN REASON        one figure that failed
# Lines starting with "# " are progress.
#
# Usage: bench.sh [WORDS]   (the VM passes cowsnap.filter): WORDS,
# comma-separated, among "quick" (the reduced set) and "virtio" (every
# slice on the virtio disk vdc instead of the brd RAM disk); anything
# else ("*") is ignored.
. /tests/vm/lib.sh
QUICK=0 DEVICE=brd
case ,${1:-}, in *,quick,*) QUICK=1 ;; esac
case ,${1:-}, in *,virtio,*) DEVICE=virtio ;; esac
# DISK: the device under every slice.
DISK=/dev/ram0 DISK_NAME="RAM disk"
[ $DEVICE = virtio ] && DISK=$SCRATCH DISK_NAME="virtio disk"
MIB=2048		# sectors per MiB
SEED=4242
# Reads go over their region this many times (one pass of 64 MiB lasts
# 0.05-0.3 s under TCG).  Measured: it did not lower the share of slow
# figures (Documentation/testing.rst, Benchmarks).
READ_LOOPS=4

if [ $QUICK = 1 ]; then
	RUNS=1 R=16 C=32
	CONFIGS="raw lin dmsnap4 thin64 cow4 row4"
	MEM="cow4:20000 row4:20000 dmsnap4:20000 cow4:100000"
else
	RUNS=5 R=64 C=256
	CONFIGS="raw lin dmsnap4 dmsnap64 thin64 cow4 cow64 row4 row64"
	MEM="cow4:100000 row4:100000 dmsnap4:100000 cow4:1000000 row4:1000000"
fi
# Layout of the disk: origin (C MiB), store (C + 32 MiB: room for
# metadata), thin-pool metadata (16 MiB), the reference slice (C MiB: raw
# measured beside cowsnap, see beside()), the reference store (C + 32
# MiB: dm-snapshot of the reference slice measured beside cowsnap, see
# snap_beside()); the thin pool's data device spans origin and store
# (never in use at the same time).
ram_mib=$(( $(blockdev --getsz $DISK) / MIB ))
C_WANTED=$C
max_c=$(( (ram_mib - 80) / 4 ))
[ "$C" -gt "$max_c" ] && C=$max_c
[ "$R" -gt "$C" ] && R=$C
O=$C S=$((C + 32))
OLEN=$((O * MIB))
echo "@@bench quick=$QUICK runs=$RUNS read_loops=$READ_LOOPS region_mib=$R changes_mib=$C changes_wanted_mib=$C_WANTED ram_mib=$ram_mib device=$DEVICE kernel=$(uname -r) seed=$SEED"
[ "$C" = "$C_WANTED" ] || echo "# bench: the $DISK_NAME ($ram_mib MiB) only fits $C MiB of changes, not $C_WANTED"

progress() { echo "# bench: [$(cut -d. -f1 /proc/uptime) s] $*"; }
now() {	# seconds, microsecond resolution
	adjtimex | awk '/tv_sec/ {s = $2} /tv_usec/ {u = $2} END {printf "%d.%06d\n", s, u}'
}
minor() { dmsetup info -c --noheadings -o minor "$1"; }
sectors_io() {	# DM_NAME... -> sectors "read written", requests "reads writes"
	for d in "$@"; do cat "/sys/block/dm-$(minor "$d")/stat"; done |
		awk '{r += $3; w += $7; nr += $1; nw += $5}
		     END {print r + 0, w + 0, nr + 0, nw + 0}'
}
kmsg() {	# the last complaint in the kernel log: cowsnap's, else dm's
	dmesg >/tmp/dmesg
	{ grep -o 'cowsnap: .*' /tmp/dmesg || grep -o 'device-mapper: .*' /tmp/dmesg; } |
		tail -1 | sed 's/^cowsnap: //'
}
exists() { dmsetup info "$1" >/dev/null 2>&1; }
down() { for d in "$@"; do exists "$d" && dmsetup remove "$d"; done; return 0; }
zero_head() { dd if=/dev/zero of="$1" bs=1M count=1 conv=fsync 2>/dev/null; }
field() { dmsetup status "$1" | awk -v n="$2" '{print $n}'; }

# fio_job DEV RW BS DEPTH SIZE [OUT [LOOPS]]: one fio run over SIZE (with
# its unit, fio's syntax), LOOPS times (1), JSON to OUT.
# Writes end with an fsync: what the store commits lazily (row mappings,
# dm-thin metadata) is committed, and counted, within the run.
fio_job() {
	eng=psync sync=0
	[ "$4" -gt 1 ] && eng=libaio
	case $2 in *write*) sync=1 ;; esac
	fio --name=bench --end_fsync=$sync --filename="$1" --rw="$2" --bs="$3" --direct=1 \
	    --ioengine=$eng --iodepth="$4" --size="$5" --randseed=$SEED \
	    --randrepeat=1 --loops="${7:-1}" --percentile_list=50:99 \
	    --output-format=json --output="${6:-/tmp/fill.json}" >/tmp/fio.err 2>&1
}
fill() { fio_job "$1" write 1M 1 "${2}M"; }	# DEV MIB
# fio_record KIND CFG WHAT RUN FILE: fio's JSON in FILE as a record.
fio_record() { echo "@@$1 $2 $3 $4"; cat "$5"; echo "@@end"; }

# measure CFG WORKLOAD RUN DEV RW BS DEPTH [MIB [LOOPS]]: a fio run over
# MIB (R), LOOPS times (1), with its record and the I/O on the devices
# under the views.
measure() {
	io0=$(sectors_io $UNDER)
	if fio_job "$4" "$5" "$6" "$7" "${8:-$R}M" /tmp/fio.json "${9:-1}"; then
		fio_record fio "$1" "$2" "$3" /tmp/fio.json
		echo "@@io $1 $2 $3 $(sectors_io $UNDER | awk -v a="$io0" '{split(a, b, " "); print $1 - b[1], $2 - b[2], $3 - b[3], $4 - b[4]}')"
	else
		echo "@@fail $1 $2 $3 fio: $(tail -1 /tmp/fio.err)"
	fi
}

# beside CFG WHAT RUN RW BS DEPTH MIB [LOOPS]: the same fio job on the
# reference slice, a raw device beside the configuration.  Under TCG a
# figure is now and then 0.5-0.7 times its neighbours for a few seconds
# (Documentation/testing.rst): raw measured right before and right after
# a figure shares its spell far more often than the raw row of the same
# run, minutes away.
beside() {
	if fio_job /dev/mapper/bn_r "$4" "$5" "$6" "$7M" /tmp/beside.json "${8:-1}"; then
		fio_record beside "$1" "$2" "$3" /tmp/beside.json
	else
		echo "@@fail $1 beside-$2 $3 fio: $(tail -1 /tmp/fio.err)"
	fi
}

# snap_beside CFG WHAT RUN RW BS DEPTH MIB: the same first-write job on
# a fresh dm-snapshot of the reference slice, with the chunk size of
# CFG, which stays set up meanwhile.  The figures a target compares with
# dm-snapshot's moved by up to 2.5 times between the runs of one bench
# (dm-snapshot's row minutes away): as for raw, the reference measured
# right before and right after a figure shares its spell.
snap_beside() {
	if dmsnap_up bn_ro bn_rsnap /dev/mapper/bn_r /dev/mapper/bn_rs \
		     $(( $(chunk_of "$1") * 2 )) &&
	   fio_job /dev/mapper/bn_ro "$4" "$5" "$6" "$7M" /tmp/beside.json; then
		fio_record snapbeside "$1" "$2" "$3" /tmp/beside.json
	else
		echo "@@fail $1 snapbeside-$2 $3 $(kmsg) $(tail -1 /tmp/fio.err)"
	fi
	down bn_rsnap bn_ro
}

# snap_target CFG WORKLOAD: whether the figure has a target against
# dm-snapshot (CoW first writes, 4 KiB chunks).
snap_target() {
	case $1:$2 in
	cow4:*_first) return 0 ;;
	esac
	return 1
}

# raw_target CFG WORKLOAD: whether the figure has a target against raw
# (cowsnap: writes to copied chunks and snapshot reads, every row write).
raw_target() {
	case $1:$2 in
	cow*:*_copied|cow*:r*_snap|row*:w*|row*:r*_snap) return 0 ;;
	esac
	return 1
}

# measure_beside: measure's arguments; raw or dm-snapshot beside it,
# before and after, when the figure has a target against that.
measure_beside() {
	if snap_target "$1" "$2"; then
		snap_beside "$1" "$2" "$3" "$5" "$6" "$7" "${8:-$R}"
		measure "$@"
		snap_beside "$1" "$2" "$3" "$5" "$6" "$7" "${8:-$R}"
	elif raw_target "$1" "$2"; then
		beside "$1" "$2" "$3" "$5" "$6" "$7" "${8:-$R}" "${9:-1}"
		measure "$@"
		beside "$1" "$2" "$3" "$5" "$6" "$7" "${8:-$R}" "${9:-1}"
	else
		measure "$@"
	fi
}

# ---- the configurations: set_up CFG fills LIVE, SNAP and UNDER ----
chunk_of() { c=${1#"${1%%[0-9]*}"}; echo "${c:-0}"; }	# cow64 -> 64, raw -> 0

set_up() {
	cs=$(( $(chunk_of "$1") * 2 ))
	dmesg -c >/dev/null
	case $1 in
	raw)
		LIVE=/dev/mapper/bn_o SNAP=/dev/mapper/bn_o UNDER=bn_o
		return 0 ;;
	lin)	# one more dm layer, doing nothing: what stacking costs
		dm_create bn_live "0 $OLEN linear /dev/mapper/bn_o 0" || return 1
		LIVE=/dev/mapper/bn_live SNAP=/dev/mapper/bn_live UNDER=bn_o
		return 0 ;;
	dmsnap*)
		dmsnap_up bn_live bn_snap /dev/mapper/bn_o /dev/mapper/bn_s $cs ||
			return 1
		UNDER="bn_o bn_s" ;;
	thin*)
		zero_head /dev/mapper/bn_tm
		dm_create bn_pool "0 $(sectors /dev/mapper/bn_td) thin-pool /dev/mapper/bn_tm /dev/mapper/bn_td $cs 0 1 skip_block_zeroing" &&
		dmsetup message bn_pool 0 "create_thin 0" &&
		dm_create bn_live "0 $OLEN thin /dev/mapper/bn_pool 0" &&
		fill /dev/mapper/bn_live "$O" &&
		dmsetup suspend bn_live &&
		dmsetup message bn_pool 0 "create_snap 1 0" &&
		dmsetup resume bn_live &&
		dm_create bn_snap "0 $OLEN thin /dev/mapper/bn_pool 1" || return 1
		UNDER="bn_tm bn_td" ;;
	cow*|row*)
		mode=${1%%[0-9]*} ro=
		[ "$mode" = row ] && ro=--readonly
		zero_head /dev/mapper/bn_s
		if ! dm_create bn_live "0 $OLEN cowsnap /dev/mapper/bn_o /dev/mapper/bn_s $mode $cs live" 2>/dev/null; then
			NA_REASON="$mode tables refused: $(kmsg)"
			return 2
		fi
		dmsetup create $ro bn_snap --table "0 $OLEN cowsnap /dev/mapper/bn_o /dev/mapper/bn_s $mode $cs snap" &&
			dmsetup mknodes bn_snap || return 1
		UNDER="bn_o bn_s" ;;
	esac
	LIVE=/dev/mapper/bn_live SNAP=/dev/mapper/bn_snap
}
# snapshot-origin learns the chunk size it splits writes at when it is
# resumed: resume it (ORIGIN_VIEW) once the snapshot exists (as LVM
# does), or a write that spans chunks makes an exception for its first
# chunk only.
origin_resplit() { dmsetup suspend "$1" && dmsetup resume "$1"; }

# dmsnap_up ORIGIN_VIEW SNAP_VIEW ORIGIN STORE CS: a fresh dm-snapshot
# (persistent store, CS sectors a chunk) of ORIGIN, OLEN sectors.
dmsnap_up() {
	zero_head "$4"
	dm_create "$1" "0 $OLEN snapshot-origin $3" &&
	dm_create "$2" "0 $OLEN snapshot $3 $4 P $5" &&
	origin_resplit "$1"
}
tear_down() { down bn_snap bn_live bn_pool; }

# fresh CFG WHAT RUN: set up a fresh snapshot, or record why not.
fresh() {
	tear_down
	set_up "$1"
	case $? in
	0) return 0 ;;
	2) eval "[ -z \"\${NA_$1:-}\" ]" && echo "@@na $1 $NA_REASON"
	   eval "NA_$1=1" ;;
	*) echo "@@fail $1 $2 $3 set-up: $(kmsg)" ;;
	esac
	tear_down
	return 1
}

# ---- rollback, fold, merge ----
# wait_merge VIEW: wait while a cowsnap merge runs; print the final state.
# The end of a merge raises an event: sleeping in "dmsetup wait" until
# the event counter moves leaves the CPUs to the merge (polling status
# every 10 ms took about half of the VM's CPU time).  An event between
# reading the counter and reading the state ends the wait at once.
wait_merge() {
	n=0
	ev=$(events "$1")
	while [ "$(field "$1" 6)" = merging ] && [ $n -lt 1000 ]; do
		dmsetup wait "$1" "$ev" >/dev/null || break
		ev=$(events "$1")
		n=$((n + 1))
	done
	field "$1" 6
}

# op CFG OP RUN: time OP over C MiB of changes on a fresh snapshot.
op() {
	fresh "$1" "$2" "$3" || return
	if ! fill "$LIVE" "$C"; then
		echo "@@fail $1 $2 $3 writing the changes: $(tail -1 /tmp/fio.err)"
		return
	fi
	sync
	case $1 in
	dmsnap*)
		t0=$(now)
		dmsetup remove bn_snap &&
		dmsetup suspend bn_live &&
		dmsetup load bn_live --table "0 $OLEN snapshot-merge /dev/mapper/bn_o /dev/mapper/bn_s P $cs" &&
		dmsetup resume bn_live || { echo "@@fail $1 $2 $3 merge: $(kmsg)"; return; }
		n=0
		# Merged when only metadata remains: "<allocated>/<total> <metadata>".
		while ! dmsetup status bn_live | awk '{split($4, a, "/"); exit !(a[1] == $5)}' &&
		      [ $n -lt 180000 ]; do
			sleep 0.01
			n=$((n + 1))
		done
		t1=$(now)
		[ $n -lt 180000 ] || { echo "@@fail $1 $2 $3 merge did not end"; return; } ;;
	*)
		copies=0
		case $1:$2 in cow*:rollback|row*:fold) copies=1 ;; esac
		[ $copies = 1 ] && beside "$1" "$2" "$3" write 1M 1 "$C"
		t0=$(now)
		if ! dmsetup message bn_live 0 "$2" 2>/dev/null; then
			echo "@@fail $1 $2 $3 n/a (message refused: $(kmsg))"
			return
		fi
		st=$(wait_merge bn_live)
		t1=$(now)
		[ $copies = 1 ] && beside "$1" "$2" "$3" write 1M 1 "$C"
		case "$1 $2 $st" in
		"row"*" rollback valid"|*" ended") ;;
		*) echo "@@fail $1 $2 $3 ended in state '$st' ($(dmsetup status bn_live | cut -d' ' -f4-))"; return ;;
		esac ;;
	esac
	# A cowsnap merge logs its own time, begin to end: the copy's rate.
	ms=$(dmesg | sed -n 's/.* done: .* chunks merged ([0-9]* in \([0-9]*\) ms)$/\1/p' | tail -1)
	echo "@@op $1 $2 $3 $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') $C${ms:+ $(awk -v m="$ms" 'BEGIN {printf "%.3f", m / 1000}')}"
}

# ---- memory per exception ----
meminfo() {
	sync
	sleep 1		# let RCU-deferred frees land
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^(MemFree|Slab|SReclaimable|SUnreclaim|VmallocUsed|Percpu|KernelStack|PageTables):/ {
		sub(":", "", $1); printf "%s=%.0f ", $1, $2 * 1024}' /proc/meminfo
	# name=active_objs:num_objs:objsize:objperslab:pagesperslab:num_slabs
	awk '/^(cowsnap|dm_exception|dm_snap|kcopyd|dm_io|bio-)/ {
		printf "slab:%s=%s:%s:%s:%s:%s:%s ", $1, $2, $3, $4, $5, $6, $15}' /proc/slabinfo
	echo
}

mem() {	# CFG N RUN
	mode=${1%%[0-9]*} cs=$(( $(chunk_of "$1") * 2 ))
	zo=$(( $2 * cs ))
	dm_create bn_zo "0 $zo zero" && dm_create bn_zs "0 $((zo * 2 + 65536)) zero" || {
		echo "@@fail $1 mem-$2 $3 dm-zero: $(kmsg)"; down bn_zo bn_zs; return; }
	echo "@@mem $1 $2 $3 before $(meminfo)"
	dmesg -c >/dev/null
	case $mode in
	dmsnap)
		dm_create bn_live "0 $zo snapshot-origin /dev/mapper/bn_zo" &&
		dm_create bn_snap "0 $zo snapshot /dev/mapper/bn_zo /dev/mapper/bn_zs N $cs" &&
		origin_resplit bn_live ;;
	*)
		ro=
		[ "$mode" = row ] && ro=--readonly
		dm_create bn_live "0 $zo cowsnap /dev/mapper/bn_zo /dev/mapper/bn_zs $mode $cs live 1 transient" &&
		dmsetup create $ro bn_snap --table "0 $zo cowsnap /dev/mapper/bn_zo /dev/mapper/bn_zs $mode $cs snap 1 transient" ;;
	esac
	if [ $? = 0 ]; then
		echo "@@mem $1 $2 $3 created $(meminfo)"
		# Every chunk once: N exceptions.  dm-snapshot folds runs of
		# consecutive chunks into one exception, and so does cowsnap's
		# row mode for a write covering many chunks: random order for
		# them (the worst case); cow has no such folding: 1 MiB writes,
		# much faster.
		if [ "$mode" != cow ]; then
			set -- "$@" randwrite "$((cs / 2))k" 32
		else
			set -- "$@" write 1M 8
		fi
		if fio_job /dev/mapper/bn_live "$4" "$5" "$6" "$(( $2 * cs / 2 ))k"; then
			echo "@@mem $1 $2 $3 filled $(meminfo) status=$(dmsetup status bn_snap | cut -d' ' -f4- | tr ' ' ,)"
		else
			echo "@@fail $1 mem-$2 $3 fio: $(tail -1 /tmp/fio.err)"
		fi
	else
		echo "@@fail $1 mem-$2 $3 set-up: $(kmsg)"
	fi
	down bn_snap bn_live bn_zs bn_zo
}

# ---- the run ----
set -u
# Every block of the slices written up front: brd allocates a page on
# its first write, a sparse file on the host a block.
dd if=/dev/zero of=$DISK bs=1M count=$((O + S + 16 + C + C + 32)) 2>/dev/null
dm_create bn_o "0 $OLEN linear $DISK 0" &&
dm_create bn_s "0 $((S * MIB)) linear $DISK $OLEN" &&
dm_create bn_tm "0 $((16 * MIB)) linear $DISK $(((O + S) * MIB))" &&
dm_create bn_td "0 $(((O + S) * MIB)) linear $DISK 0" &&
dm_create bn_r "0 $((C * MIB)) linear $DISK $(((O + S + 16) * MIB))" &&
dm_create bn_rs "0 $(((C + 32) * MIB)) linear $DISK $(((O + S + 16 + C) * MIB))" || exit 1
fio_job /dev/mapper/bn_o randwrite 4k 1 "${R}M"	# warm up: not counted

for run in $(seq 1 $RUNS); do
	for cfg in $CONFIGS; do
		eval "[ -z \"\${NA_$cfg:-}\" ]" || continue
		progress "run $run/$RUNS: $cfg"
		for depth in 1 32; do
			fresh $cfg w4k_qd${depth} $run || continue
			measure_beside $cfg w4k_qd${depth}_first $run "$LIVE" randwrite 4k $depth
			measure_beside $cfg w4k_qd${depth}_copied $run "$LIVE" randwrite 4k $depth
		done
		eval "[ -z \"\${NA_$cfg:-}\" ]" || continue
		if fresh $cfg w1m_seq $run; then
			measure_beside $cfg w1m_seq_first $run "$LIVE" write 1M 1 "$C"
			measure_beside $cfg r4k_snap $run "$SNAP" randread 4k 1 "$R" $READ_LOOPS
			measure_beside $cfg r1m_snap $run "$SNAP" read 1M 1 "$R" $READ_LOOPS
			measure $cfg r4k_live $run "$LIVE" randread 4k 1 "$R" $READ_LOOPS
			measure $cfg r1m_live $run "$LIVE" read 1M 1 "$R" $READ_LOOPS
		fi
		case $cfg in
		dmsnap*) op $cfg merge $run ;;
		cow*|row*) op $cfg rollback $run; op $cfg fold $run ;;
		esac
		tear_down
	done
done
down bn_rs bn_r bn_td bn_tm bn_s bn_o

for run in $(seq 1 $RUNS); do
	for m in $MEM; do
		cfg=${m%:*} n=${m#*:}
		eval "[ -z \"\${NA_$cfg:-}\" ]" || continue
		progress "memory run $run/$RUNS: $cfg, $n exceptions"
		mem $cfg $n $run
	done
done
progress done
exit 0
