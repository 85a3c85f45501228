#!/bin/sh
# Redirect-on-write under failures: a full store under each policy
# (error_if_full fails writes with ENOSPC; queue_if_full holds them until
# the store grows or the time is up), growth by reload, and store I/O
# errors (degraded: writes fail, reads go on, nothing is silently lost).
. /tests/vm/lib.sh
plan 33

OLEN=65536		# 32 MiB origin
SMALL=4096		# 2 MiB store: about 500 chunks of 4 KiB
dm_create cs_o "0 $OLEN linear $ORIGIN 0"
dm_create cs_s "0 $SMALL linear $STORE 0"
O=/dev/mapper/cs_o
S=/dev/mapper/cs_s
wipe_store $S
dd if=/dev/urandom of=$O bs=1M count=32 conv=fsync 2>/dev/null
dd if=$O of=/tmp/ref bs=1M count=32 2>/dev/null
random_file /tmp/rand 8192
live() { echo "0 $OLEN cowsnap $O $S row 8 live${1:+ $1}"; }
grow() {	# SECTORS: the store device grows
	dmsetup suspend cs_s && dmsetup load cs_s --table "0 $1 linear $STORE 0" &&
	dmsetup resume cs_s
}
fill() {	# MiB at OFFSET_MiB, direct: the exit status of dd
	/usr/bin/dd if=/tmp/rand of=/dev/mapper/cs_live bs=1M count="$1" seek="$2" oflag=direct 2>/dev/null
}
no_fill() { ! fill "$@"; }

# ---- error_if_full (the default) ----
must "row live view over a small store" dm_create cs_live "$(live)"
must "row snapshot view" dm_create_ro cs_snap "0 $OLEN cowsnap $O $S row 8 snap"
check "1 MiB fits" fill 1 0
ev=$(events cs_live)
check "4 MiB more does not: the write fails" no_fill 4 8
is "status: full, store_full" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 7)" "full store_full"
check "an event was raised" test "$(events cs_live)" -gt "$ev"
check "data written before is intact" same_range /dev/mapper/cs_live 0 /tmp/rand 0 2048
check "chunks never written read from the origin" same_range /dev/mapper/cs_live 40960 /tmp/ref 40960 8192
rewrite() { /usr/bin/dd if=/tmp/rand of=/dev/mapper/cs_live bs=4096 count=16 seek=0 skip=1000 oflag=direct 2>/dev/null; }
check "rewrites of redirected chunks still work" rewrite
check "origin untouched" same_dev $O /tmp/ref $OLEN
must "the store device grows" grow $((SMALL * 8))
must "resuming a view picks the growth up" sh -c "dmsetup suspend cs_snap && dmsetup resume cs_snap"
is "status: valid again" "$(cowsnap_field cs_live 3)" valid
check "the 4 MiB write now succeeds" fill 4 8
check "and reads back" same_range /dev/mapper/cs_live 16384 /tmp/rand 0 8192
dmsetup remove cs_snap && dmsetup remove cs_live

# held_write SECONDS: a row live view with queue_if_full SECONDS over a
# fresh small store, 1 MiB written, then a 4 MiB write in the background
# (its exit status lands in /tmp/qrc) left held for space.
held_write() {
	grow $SMALL
	wipe_store $S
	dm_create cs_live "$(live "2 queue_if_full $1")" || return 1
	fill 1 0
	rm -f /tmp/qrc
	(fill 4 8; echo $? >/tmp/qrc) &
	qpid=$!
	sleep 2
}
held() { kill -0 $qpid && [ ! -s /tmp/qrc ] && [ "$(cowsnap_field cs_live 3)" = full ]; }

# ---- queue_if_full: held until the store grows (snapshot view reload) ----
must "a write held by queue_if_full 60" held_write 60
dm_create_ro cs_snap "0 $OLEN cowsnap $O $S row 8 snap"
check "the write is held while the store is full" held
grow $((SMALL * 8))
must "reload of the snapshot view over the grown store" sh -c \
	"dmsetup suspend cs_snap && dmsetup load -r cs_snap --table '0 $OLEN cowsnap $O $S row 8 snap' && dmsetup resume cs_snap"
wait $qpid
is "the held write completes" "$(cat /tmp/qrc)" 0
check "and reads back" same_range /dev/mapper/cs_live 16384 /tmp/rand 0 8192
dmsetup remove cs_snap
dmsetup remove cs_live

# ---- released by a noflush suspend of the live view (a timeout would
# ---- fail the write, and outlast the VM's own time limit) ----
must "a write held by queue_if_full 3600" held_write 3600
check "held" held
grow $((SMALL * 8))
must "noflush suspend, reload and resume of the live view" sh -c \
	"dmsetup suspend --noflush cs_live && dmsetup load cs_live --table '$(live '2 queue_if_full 3600')' && dmsetup resume cs_live"
wait $qpid
is "the held write was handed back to dm and completes" "$(cat /tmp/qrc)" 0
check "and reads back" same_range /dev/mapper/cs_live 16384 /tmp/rand 0 8192
dmsetup remove cs_live

# ---- a flushing suspend fails a held write instead of waiting ----
must "a write held by queue_if_full 3600 again" held_write 3600
must "a flushing suspend of the live view returns" dmsetup suspend cs_live
wait $qpid
check "and the held write failed" test "$(cat /tmp/qrc)" != 0
dmsetup resume cs_live
dmsetup remove cs_live

# ---- queue_if_full with a timeout ----
grow $SMALL
wipe_store $S
must "row live view, queue_if_full 2" dm_create cs_live "$(live '2 queue_if_full 2')"
fill 1 0
check "a write held for 2 s then fails" no_fill 4 8
dmsetup remove cs_live

# ---- store I/O errors ----
grow $((SMALL * 8))
wipe_store $S
must "row live view" dm_create cs_live "$(live)"
fill 1 0
dmsetup suspend cs_s
dmsetup load cs_s --table "0 $((SMALL * 8)) flakey $STORE 0 0 3600 1 error_writes"
dmsetup resume cs_s
check "a first write fails with the store failing" no_fill 1 12
is "status: degraded, store_io_error" "$(cowsnap_field cs_live 3) $(cowsnap_field cs_live 7)" "degraded store_io_error"
dmsetup remove cs_live
dmsetup remove cs_s
dmsetup remove cs_o
finish
