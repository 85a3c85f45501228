#!/bin/sh
# Shared helpers of the in-VM scenario tests: TAP output and device set-up.
# Each scenario is "sh tests/vm/NN-name.sh", prints TAP and exits non-zero
# if any point failed.  Busybox applets shadow PATH: e2fsprogs, kmod,
# util-linux tools and GNU dd (direct I/O; busybox's dd falls back to the
# page cache) are called by absolute path.

T=0
FAILED=0
KERNEL=$(cat /etc/cowsnap-kernel)
# The debug kernel (KASAN, lockdep, kmemleak, all under TCG) runs about
# ten times slower: scenarios use smaller sizes there, same checks.
SLOW=0
[ "$KERNEL" = debug ] && SLOW=1
ORIGIN=/dev/vda
STORE=/dev/vdb
SCRATCH=/dev/vdc

# COWSNAP_APPEND=cowsnap.timing adds the guest's uptime after each
# point, as a diagnostic (where a slow scenario spends its time).
TIMING=0
read -r cmdline </proc/cmdline
case " $cmdline " in *" cowsnap.timing "*) TIMING=1 ;; esac
at() { [ $TIMING = 0 ] || { read -r up _ </proc/uptime; echo "# at $up s"; }; }

plan() { echo "1..$1"; }
ok() { T=$((T + 1)); echo "ok $T - $*"; at; }
not_ok() { T=$((T + 1)); echo "not ok $T - $*"; FAILED=1; at; }
diag() { echo "# $*"; }
finish() { exit $FAILED; }

# check DESC COMMAND...: a point that passes if the command succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d (command failed: $*)"; fi
}

# must DESC COMMAND...: like check, but a failure ends the scenario: the
# points after it would only test the aftermath.
must() {
	d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		not_ok "$d (command failed: $*)"
		echo "Bail out! $d"
		exit 1
	fi
}

# is DESC GOT EXPECTED
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "  got:      '$2'"
		diag "  expected: '$3'"
	fi
}

sectors() { blockdev --getsz "$1"; }

# wipe_store DEV: make DEV a blank store (its first MiB zero).
wipe_store() { dd if=/dev/zero of="$1" bs=1M count=1 conv=fsync 2>/dev/null; }
devno() { cat "/sys/class/block/$(basename "$(readlink -f "$1")")/dev"; }

# error_table DEV OFF SECTORS BAD N: a table of SECTORS sectors of DEV
# from its sector OFF on, whose sectors BAD to BAD + N - 1 fail every
# I/O (an error segment; dm-error is in every kernel).
error_table() {
	printf '0 %d linear %s %d\n%d %d error\n%d %d linear %s %d\n' \
		"$4" "$1" "$2" "$4" "$5" $(($4 + $5)) $(($3 - $4 - $5)) \
		"$1" $(($2 + $4 + $5))
}

# dm_create NAME TABLE: create a device and its node.
dm_create() {
	dmsetup create "$1" --table "$2" && dmsetup mknodes "$1" &&
		[ -b "/dev/mapper/$1" ]
}

# dm_create_ro NAME TABLE: the same, read-only (a row snapshot view).
dm_create_ro() {
	dmsetup create -r "$1" --table "$2" && dmsetup mknodes "$1" &&
		[ -b "/dev/mapper/$1" ]
}

# views_up MODE ORIGIN STORE CHUNK SECTORS [LIVE_FEATURES [SNAP_FEATURES]]:
# the live view cs_live and the snapshot view cs_snap over ORIGIN and
# STORE, SECTORS long (the snapshot view read-only in row mode).
views_up() {
	dm_create cs_live "0 $5 cowsnap $2 $3 $1 $4 live${6:+ $6}" || return 1
	if [ "$1" = row ]; then
		dm_create_ro cs_snap "0 $5 cowsnap $2 $3 row $4 snap${7:+ $7}"
	else
		dm_create cs_snap "0 $5 cowsnap $2 $3 cow $4 snap${7:+ $7}"
	fi
}

# remove_devs NAME...: remove each device in turn; stops at a failure.
remove_devs() {
	for rd_name in "$@"; do dmsetup remove "$rd_name" || return 1; done
}

# refused DESC EXPECTED_ERROR TABLE: creating a device with TABLE must fail
# and the kernel must name EXPECTED_ERROR as the constructor's error.
refused() {
	dmesg -c >/dev/null
	if dmsetup create cs_bad --table "$3" 2>/dev/null; then
		not_ok "$1: table accepted: $3"
		dmsetup remove cs_bad
		return
	fi
	if dmesg | grep -o 'cowsnap: .*' | grep -qF -- "$2"; then
		ok "$1 refused: $2"
	else
		not_ok "$1: expected '$2', kernel said '$(dmesg | grep -o 'cowsnap: .*' | tr '\n' '|')'"
	fi
	dmsetup remove cs_bad 2>/dev/null
	return 0
}

# random_file PATH KIB: a file of random data.
random_file() { dd if=/dev/urandom of="$1" bs=1024 count="$2" 2>/dev/null; }

# flush_dev PATH: drop a block device's page cache; files are left alone.
# Each block device has its own cache, so a write through one device is
# not seen by the cached pages of another.
flush_dev() { [ ! -b "$1" ] || blockdev --flushbufs "$1"; }

# read_range DEV OFF SECTORS: print a range, bypassing stale page cache.
read_range() {
	flush_dev "$1"
	dd if="$1" bs=1M skip=$(($2 * 512)) count=$(($3 * 512)) \
	   iflag=skip_bytes,count_bytes 2>/dev/null
}

# same_range DEV_A OFF_A DEV_B OFF_B SECTORS: byte-compare two ranges
# of devices or files, after dropping the devices' stale page cache.
# GNU cmp by absolute path: busybox's applet is three times slower.
same_range() {
	flush_dev "$1"
	flush_dev "$3"
	/usr/bin/cmp -s -i $(($2 * 512)):$(($4 * 512)) -n $(($5 * 512)) \
		"$1" "$3"
}

# rnd_set N: R becomes a pseudo-random number in [0, N).  rnd N prints
# one, but "$(rnd N)" forks a subshell, and a fork costs 50-80 ms on
# the debug kernel under TCG: loops use rnd_set.
rnd_set() { R=$(( (RANDOM * 32768 + RANDOM) % $1 )); }
rnd() { rnd_set "$1"; echo "$R"; }

# write_both DEV FILE SRC_FILE OFF SECTORS [SRC_SECTORS]: write SECTORS
# sectors of SRC_FILE (from a random place) at OFF of DEV and of the
# expected image FILE, so FILE always holds what DEV should read back.
# SRC_SECTORS, SRC_FILE's size, spares a loop a stat per write.  The
# write to DEV is one write(2) of SECTORS sectors with direct I/O, by GNU
# dd (its buffer is page-aligned), so the target gets exactly those
# sectors in one bio (split only by the queue's limits), then a flush:
# busybox's dd goes through the page cache (even with oflag=direct, for
# blocks it cannot align), which turns a write of one sector into a
# read and a write of the 4 KiB page around it; and bs=512 would make
# as many one-sector writes as sectors.
write_both() {
	wb_src=${6:-$(($(stat -c %s "$3") / 512))}
	rnd_set $((wb_src - $5))
	/usr/bin/dd if="$3" of="$1" bs=$(($5 * 512)) count=1 iflag=skip_bytes \
		skip=$((R * 512)) oflag=direct,seek_bytes seek=$(($4 * 512)) \
		conv=fsync status=none 2>/dev/null &&
	/usr/bin/dd if="$3" of="$2" bs=$(($5 * 512)) count=1 iflag=skip_bytes \
		skip=$((R * 512)) oflag=seek_bytes seek=$(($4 * 512)) \
		conv=notrunc status=none 2>/dev/null
}

# random_writes DEV FILE SRC_FILE COUNT MAX LEN: COUNT write_both of 1..MAX
# sectors at random offsets below LEN; fails if one write did.
random_writes() {
	rw_i=0 rw_bad=0 rw_src=$(($(stat -c %s "$3") / 512))
	while [ $rw_i -lt "$4" ]; do
		rnd_set "$5"
		rw_n=$((R + 1))
		rnd_set $(($6 - rw_n))
		write_both "$1" "$2" "$3" "$R" "$rw_n" "$rw_src" || rw_bad=1
		rw_i=$((rw_i + 1))
	done
	return $rw_bad
}

# same_dev DEV_A DEV_OR_FILE_B SECTORS: the first SECTORS sectors match.
same_dev() { same_range "$1" 0 "$2" 0 "$3"; }

# origin_setup MB: cs_origin, an MB MiB slice of ORIGIN full of random
# data; its reference image on SCRATCH and in /tmp/expected (what the
# live view must hold), random source data in /tmp/rand.  Sets LEN, O.
origin_setup() {
	LEN=$(($1 * 2048))
	dm_create cs_origin "0 $LEN linear $ORIGIN 0"
	O=/dev/mapper/cs_origin
	dd if=/dev/urandom of=$O bs=1M count="$1" conv=fsync 2>/dev/null
	dd if=$O of=$SCRATCH bs=1M count="$1" 2>/dev/null
	dd if=$O of=/tmp/expected bs=1M count="$1" 2>/dev/null
	random_file /tmp/rand 2048
}

# wait_state VIEW WORD: poll until the status state is WORD (120 s max).
wait_state() {
	n=0
	while [ "$(cowsnap_field "$1" 3)" != "$2" ]; do
		n=$((n + 1))
		[ $n -gt 1200 ] && return 1
		sleep 0.1
	done
}

# events DEV: the device's event counter.
events() { dmsetup info -c --noheadings -o events "$1"; }

# inflight NAME...: each dm device's reads and writes in flight by its
# I/O accounting (/sys/dev/block/M:m/inflight), "R W" per device, on one
# line; "0 0" for each once every bio has ended.  (Its variables start
# with an underscore: a scenario's own names stay untouched.)
inflight() {
	_all=
	for _dm in "$@"; do
		_mm=$(dmsetup info -c --noheadings -o major,minor --separator : "$_dm")
		read -r _r _w <"/sys/dev/block/$_mm/inflight"
		_all="$_all $_r $_w"
	done
	echo "${_all# }"
}

# cowsnap_field VIEW N: field N of the cowsnap status (1 = mode).
cowsnap_field() { dmsetup status "$1" | awk -v n="$2" '{print $(3 + n)}'; }

# fsck_clean DEV: e2fsck -n finds nothing (its report goes to the TAP
# stream as diagnostics only when it does).
fsck_clean() {
	/sbin/e2fsck -n -f "$1" >/tmp/fsck.log 2>&1 && return 0
	sed 's/^/# /' /tmp/fsck.log
	return 1
}
