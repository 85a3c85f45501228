#!/bin/sh
# The cowsnap tool's workflows against the real module, the way a user
# runs them: create on a mounted, busy ext4 volume (a device-mapper
# device taken over in place) and on a plain disk, status, fold, rollback
# and remove in both modes, reactivate after everything was torn down,
# and check/dump of the store offline.  Exact data checks throughout.
# The plan is printed at the end, from the points run.
. /tests/vm/lib.sh

if [ $SLOW = 1 ]; then MB=16; else MB=64; fi
LEN=$((MB * 2048))
BASE=/dev/mapper/base

# tool DESC RC ARGS...: run cowsnap, keep its output in /tmp/out and
# /tmp/err; a point that passes when it exits with RC.
tool() {
	d=$1 rc=$2
	shift 2
	cowsnap "$@" >/tmp/out 2>/tmp/err
	got=$?
	if [ "$got" = "$rc" ]; then
		ok "$d"
	else
		not_ok "$d (cowsnap $*: exit code $got, expected $rc)"
		sed 's/^/# out: /' /tmp/out
		sed 's/^/# err: /' /tmp/err
	fi
}

state() { cowsnap status --json "$1" | sed -n 's/.*"state": "\(.*\)",/\1/p'; }
md5() { read_range "$1" 0 "$LEN" | md5sum | cut -d' ' -f1; }
wait_state() {	# DEV STATE: up to 120 s
	n=0
	while [ "$(state "$1")" != "$2" ] && [ $n -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	[ "$(state "$1")" = "$2" ]
}

wipe_store $STORE
must "volume base made" dm_create base "0 $LEN linear $ORIGIN 0"
must "ext4 made on it" /sbin/mke2fs -q -t ext4 -F $BASE
mkdir -p /mnt/live /mnt/snap
must "ext4 mounted" mount -t ext4 $BASE /mnt/live
i=1
while [ $i -le 12 ]; do
	dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 53)) 2>/dev/null
	i=$((i + 1))
done
(cd /mnt/live && md5sum f* >/tmp/sums)
sync

# ---- create --dry-run changes nothing ----
dmsetup ls | sort >/tmp/before
tool "create --dry-run" 0 create --dry-run -c 16 $BASE $STORE
check "dry run: base-real, the live table and the snapshot table printed" \
	grep -q "^create   base-real" /tmp/out
check "dry run: the live table is loaded into base itself" \
	grep -qx "         0 $LEN cowsnap /dev/mapper/base-real $STORE cow 16 live" /tmp/out
is "dry run: no device changed" "$(dmsetup ls | sort)" "$(cat /tmp/before)"

# ---- create on the mounted, busy volume: it keeps its name ----
(while :; do dd if=/dev/urandom of=/mnt/live/busy bs=4k count=16 conv=fsync 2>/dev/null; done) &
busy=$!
sleep 1
tool "create on a mounted ext4 volume with writes running" 0 create -c 16 $BASE $STORE
check "base is now the live view" sh -c "dmsetup table base | grep -q ' cowsnap .* cow 16 live'"
check "the snapshot view base-snap exists" test -b /dev/mapper/base-snap
check "the origin's table moved to base-real" sh -c "dmsetup table base-real | grep -q ' linear '"
i=1
while [ $i -le 6 ]; do
	dd if=/dev/urandom of=/mnt/live/f$i bs=1k count=$((i * 61)) conv=notrunc 2>/dev/null
	i=$((i + 1))
done
dd if=/dev/urandom of=/mnt/live/new bs=1M count=2 2>/dev/null
kill $busy
wait $busy 2>/dev/null
sync
(cd /mnt/live && md5sum f* new >/tmp/sums2)
check "writes went on: the live files changed" sh -c "! (cd /mnt/live && md5sum -c /tmp/sums >/dev/null 2>&1)"
tool "status base" 0 status base
check "status: cow live valid" grep -qE '^base +cow +live +valid' /tmp/out
tool "status --json: every snapshot" 0 status --json
check "status --json lists both views" sh -c "grep -c '\"name\": \"base' /tmp/out | grep -qx 2"
check "e2fsck -n of the snapshot view is clean" fsck_clean /dev/mapper/base-snap
check "the snapshot mounts" mount -t ext4 -o ro,noload /dev/mapper/base-snap /mnt/snap
check "every file of the snapshot matches" sh -c "cd /mnt/snap && md5sum -c /tmp/sums >/dev/null"
check "the file made later is not in the snapshot" test ! -e /mnt/snap/new
umount /mnt/snap

# ---- fold (cow: instant), then remove ----
tool "fold base (cow)" 0 fold base
is "fold ends the snapshot" "$(state base)" ended
tool "remove base" 0 remove base
check "remove: base maps the origin again" sh -c "dmsetup table base | grep -q ' linear '"
check "remove: base-snap and base-real are gone" sh -c "! dmsetup info base-snap >/dev/null 2>&1 && ! dmsetup info base-real >/dev/null 2>&1"
check "remove: the live files are intact" sh -c "echo 3 >/proc/sys/vm/drop_caches; cd /mnt/live && md5sum -c /tmp/sums2 >/dev/null"
umount /mnt/live
check "e2fsck -n of base after all that is clean" fsck_clean $BASE
tool "remove of a device that is no snapshot" 4 remove base

# ---- cow rollback: a merge, followed with --wait ----
tool "create over an ended store (reformatted without --force)" 0 create $BASE $STORE
before=$(md5 $BASE)
dd if=/dev/urandom of=$BASE bs=1M count=4 seek=1 conv=fsync 2>/dev/null
check "the live view changed" test "$(md5 $BASE)" != "$before"
tool "rollback --wait (cow merge)" 0 rollback --wait base
is "rollback gives back the snapshot's data" "$(md5 $BASE)" "$before"
is "rollback ended the snapshot" "$(state base)" ended
tool "rollback of an ended snapshot is refused (exit 7)" 7 rollback base
tool "remove after the rollback" 0 remove base
is "and the origin holds the snapshot's data" "$(md5 $BASE)" "$before"

# ---- reactivate after tearing everything down ----
tool "a new snapshot" 0 create -c 8 $BASE $STORE
dd if=/dev/urandom of=$BASE bs=64k count=40 seek=3 conv=fsync 2>/dev/null
snap=$(md5 /dev/mapper/base-snap)
live=$(md5 $BASE)
# tear down without ending it: as a reboot would
dmsetup remove base-snap
dmsetup suspend base && dmsetup load base --table "0 $LEN linear $ORIGIN 0" &&
	dmsetup resume base && dmsetup remove base-real
tool "check of the store offline: clean" 0 check $STORE
check "check counts the exceptions" sh -c "grep -qE '^exceptions +[1-9]' /tmp/out"
tool "dump of the store" 0 dump --json $STORE
check "dump lists the exceptions, origin_id names base-real" sh -c "grep -q '\"origin_chunk\"' /tmp/out && grep -q '\"origin_id\": \"/dev/mapper/base-real\"' /tmp/out"
tool "reactivate without --origin: the hidden origin is gone (exit 2)" 2 reactivate $STORE
if grep -q -- '--origin /dev/mapper/base' /tmp/err; then
	ok "and the message names the device to give"
else
	not_ok "and the message names the device to give"
	sed 's/^/# err: /' /tmp/err
fi
tool "reactivate --origin of the wrong size (exit 2)" 2 reactivate $STORE --origin $SCRATCH --name x
tool "reactivate --origin /dev/mapper/base" 0 reactivate $STORE --origin $BASE
is "reactivated: the snapshot view holds the snapshot" "$(md5 /dev/mapper/base-snap)" "$snap"
is "reactivated: the live view holds the live data" "$(md5 $BASE)" "$live"
tool "remove --force of a snapshot that has not ended" 0 remove --force base
check "and it said what is lost" grep -q 'warning: the snapshot view base-snap' /tmp/err

# ---- a plain disk: a new live view next to it ----
wipe_store $STORE
tool "create on a plain disk" 0 create -n plain $SCRATCH $STORE
check "create says to move to the new live view" grep -q 'use /dev/mapper/plain instead of' /tmp/out
tool "fold plain" 0 fold plain
tool "remove plain" 0 remove plain
check "plain is now a linear mapping of the disk" sh -c "dmsetup table plain | grep -q ' linear '"
dmsetup remove plain 2>/dev/null || { dmsetup remove plain-snap; dmsetup remove plain; }

# ---- row: instant rollback, fold in the background ----
wipe_store $STORE
tool "create -m row" 0 create -m row $BASE $STORE
check "the row snapshot view is read-only" sh -c "dmsetup info base-snap | grep -q 'READ-ONLY'"
before=$(md5 $BASE)
dd if=/dev/urandom of=$BASE bs=1M count=2 seek=2 conv=fsync 2>/dev/null
tool "rollback (row: instant)" 0 rollback base
is "row rollback gives back the snapshot" "$(md5 $BASE)" "$before"
is "and the snapshot goes on" "$(state base)" valid
dd if=/dev/urandom of=$BASE bs=1M count=3 seek=1 conv=fsync 2>/dev/null
after=$(md5 $BASE)
tool "fold --wait (row: a copy into the origin)" 0 fold --wait base
is "row fold ended the snapshot" "$(state base)" ended
tool "remove after the row fold" 0 remove base
is "the origin alone holds the live data" "$(md5 $BASE)" "$after"

# ---- offline check once every device is gone ----
tool "check of an ended store" 0 check $STORE
check "its state is ended" grep -qE '^state +ended' /tmp/out
dd if=/dev/urandom of=$STORE bs=4096 count=1 seek=0 conv=notrunc,fsync 2>/dev/null
tool "check of a store with a ruined superblock: exit 6" 6 check $STORE
dmsetup remove base
echo "1..$T"
finish
