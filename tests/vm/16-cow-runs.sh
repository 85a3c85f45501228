#!/bin/sh
# Copy-on-write first writes that span chunks.  map() parks a write to a
# run of chunks without exceptions whole; the worker copies runs of
# chunks at once and lets the write reach the origin once every chunk it
# spans has its exception, waiting for another write's copy where one is
# in flight.  The origin is read through dm-delay (200 ms), so that
# copies are slow and writes overlap where the test wants them to:
# - a write of 16 chunks alone: one run, 16 exceptions;
# - a write of 16 chunks over a chunk another write is copying: it joins
#   that copy, then copies the rest (this hung once: the rest was queued
#   after the worker had started its copies);
# - a write over chunks copied, not copied and being copied, in turn;
# - the snapshot view stays bit-exact, the live view holds what was
#   written, and both survive teardown and reactivation (compared with
#   the delay gone).
. /tests/vm/lib.sh
plan 16

MB=16
CH=4096		# chunk bytes (8 sectors)
origin_setup $MB
cp /tmp/expected /tmp/ref
must "slow origin (reads delayed 200 ms)" dm_create cs_slow "0 $LEN delay $O 0 200 $O 0 0"
wipe_store $STORE
must "live view created" dm_create cs_live "0 $LEN cowsnap /dev/mapper/cs_slow $STORE cow 8 live"
must "snapshot view created" dm_create cs_snap "0 $LEN cowsnap /dev/mapper/cs_slow $STORE cow 8 snap"
U0=$(cowsnap_field cs_live 4)

# put CHUNK COUNT SRC: write COUNT chunks at CHUNK, from chunk SRC of
# /tmp/rand, in one direct write to the live view (one bio), and in
# /tmp/expected.  GNU dd: busybox's would send a one-chunk write through
# the page cache (its buffer is not aligned for O_DIRECT).
put() {
	/usr/bin/dd if=/tmp/rand of=/dev/mapper/cs_live bs=$(($2 * CH)) count=1 skip=$(($3 * CH)) \
		seek=$(($1 * CH)) iflag=skip_bytes oflag=seek_bytes,direct status=none 2>/dev/null &&
	dd if=/tmp/rand of=/tmp/expected bs=$(($2 * CH)) count=1 skip=$(($3 * CH)) \
		seek=$(($1 * CH)) iflag=skip_bytes oflag=seek_bytes conv=notrunc 2>/dev/null
}
# ended PID...: each background job ends within 60 s; their exit codes
# go to $R.  A write that never ends fails the scenario at once (the
# rest would only wait for it).
ended() {
	R=
	for pid in "$@"; do
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 600 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			not_ok "a write did not end within 60 s"
			echo "Bail out! a write hangs"
			exit 1
		fi
		wait "$pid"
		R="$R$? "
	done
}
exceptions() { echo $((U0 + 2 + $1)); }

# One write of 16 chunks: one run.
put 16 16 0 &
ended $!
is "a write of 16 chunks ends" "$R" "0 "
is "16 exceptions" "$(cowsnap_field cs_live 4)" "$(exceptions 16)"

# A write of 16 chunks (96..111) while another write (chunk 100, the
# same data) is being copied: the long one copies 96..99, waits for
# chunk 100's copy, then copies 101..111.
put 100 1 104 &
a=$!
sleep 0.05
put 96 16 100 &
ended $a $!
is "a long write over a chunk being copied, and that one, end" "$R" "0 0 "
is "16 more exceptions, chunk 100 once" "$(cowsnap_field cs_live 4)" "$(exceptions 32)"

# Chunks 202 and 210 copied first; then one write over 200..215 copies
# the runs 200-201, 203-209 and 211-215.
written_first() { put 202 1 300 && put 210 1 301; }
check "chunks 202 and 210 written first" written_first
put 200 16 400 &
ended $!
is "a write over copied and uncopied chunks ends" "$R" "0 "
is "16 more exceptions (2 first, 14 by the long write)" "$(cowsnap_field cs_live 4)" "$(exceptions 48)"

# Two writes of 32 chunks over the same chunks at once (the same data).
put 500 32 40 &
a=$!
put 500 32 40 &
ended $a $!
is "two long writes over the same chunks both end" "$R" "0 0 "
is "32 more exceptions" "$(cowsnap_field cs_live 4)" "$(exceptions 80)"

# Compare at full speed: the slow origin becomes a plain linear map.
dmsetup suspend cs_slow && dmsetup load cs_slow --table "0 $LEN linear $O 0" &&
	dmsetup resume cs_slow
check "live view holds what was written" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "snapshot view equals the reference image" same_dev /dev/mapper/cs_snap /tmp/ref $LEN

dmsetup remove cs_snap
dmsetup remove cs_live
dm_create cs_live "0 $LEN cowsnap /dev/mapper/cs_slow $STORE cow 8 live" &&
	dm_create cs_snap "0 $LEN cowsnap /dev/mapper/cs_slow $STORE cow 8 snap"
check "after reactivation: live view" same_dev /dev/mapper/cs_live /tmp/expected $LEN
check "after reactivation: snapshot view" same_dev /dev/mapper/cs_snap /tmp/ref $LEN
dmsetup remove cs_snap
dmsetup remove cs_live
dmsetup remove cs_slow
dmsetup remove cs_origin
finish
