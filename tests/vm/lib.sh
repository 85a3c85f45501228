#!/bin/sh
# Shared helpers of the in-VM scenario tests: TAP output and device set-up.
# Each scenario is "sh tests/vm/NN-name.sh", prints TAP and exits non-zero
# if any point failed.  Busybox applets shadow PATH: e2fsprogs, kmod and
# util-linux tools are called by absolute path.

T=0
FAILED=0
ORIGIN=/dev/vda
STORE=/dev/vdb
SCRATCH=/dev/vdc

plan() { echo "1..$1"; }
ok() { T=$((T + 1)); echo "ok $T - $*"; }
not_ok() { T=$((T + 1)); echo "not ok $T - $*"; FAILED=1; }
diag() { echo "# $*"; }
finish() { exit $FAILED; }

# check DESC COMMAND...: a point that passes if the command succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d (command failed: $*)"; fi
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
devno() { cat "/sys/class/block/$(basename "$(readlink -f "$1")")/dev"; }

# dm_create NAME TABLE: create a device and its node.
dm_create() {
	dmsetup create "$1" --table "$2" && dmsetup mknodes "$1"
}

dm_remove_all() {
	for d in $(dmsetup ls 2>/dev/null | awk '{print $1}'); do
		[ "$d" = "No" ] && continue
		dmsetup remove "$d" 2>/dev/null
	done
	dmsetup remove_all 2>/dev/null
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
	msg=$(dmesg | grep -o 'cowsnap: .*' | head -1)
	case "$msg" in
	*"$2"*) ok "$1 refused: $2" ;;
	*) not_ok "$1: expected '$2', kernel said '$msg'" ;;
	esac
	dmsetup remove cs_bad 2>/dev/null
	return 0
}

# random_file PATH KIB: a file of random data.
random_file() { dd if=/dev/urandom of="$1" bs=1024 count="$2" 2>/dev/null; }

# read_range DEV OFF SECTORS: print a range, bypassing stale page cache
# (each block device has its own, so a write through one device is not
# seen by the cached pages of another).
read_range() {
	[ -b "$1" ] && blockdev --flushbufs "$1"
	dd if="$1" bs=512 skip="$2" count="$3" 2>/dev/null
}

# same_range DEV_A OFF_A DEV_B OFF_B SECTORS: byte-compare two ranges.
same_range() {
	read_range "$1" "$2" "$5" >/tmp/ra.$$
	read_range "$3" "$4" "$5" >/tmp/rb.$$
	cmp -s /tmp/ra.$$ /tmp/rb.$$
	r=$?
	rm -f /tmp/ra.$$ /tmp/rb.$$
	return $r
}
