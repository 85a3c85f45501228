#!/bin/bash
# Host test of qemu/emulator-fault.sh over canned console logs.  TAP.
# emulator-eflags-6.12.log is a real WARNING dump from a 6.12 guest
# under multi-threaded TCG (EFLAGS 20b0a697: reserved bits 15, 23, 29);
# cpu-ok-6.12-warning.log is the same dump with a valid EFLAGS, and
# emulator-eflags-bit1.log the same with bit 1 (always 1) clear.
top=$(cd "$(dirname "$0")/../.." && pwd)
fix="$top/tests/host/fixtures"
ef="$top/qemu/emulator-fault.sh"
n=0

# point DESC LOG RC OUTPUT: the script on LOG exits RC and prints OUTPUT.
point() {
	local out rc
	n=$((n + 1))
	out=$("$ef" "$fix/$2" 2>/dev/null)
	rc=$?
	if [ "$rc" = "$3" ] && [ "$out" = "$4" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: exit $rc (expected $3), output '$out' (expected '$4')"
	fi
}

echo "1..5"
point "reserved EFLAGS bits are caught, with the line" emulator-eflags-6.12.log 0 \
	"10:[  175.557063] RSP: 0018:ff6199c4c00539c0 EFLAGS: 20b0a697"
point "EFLAGS with bit 1 clear is caught" emulator-eflags-bit1.log 0 \
	"10:[  175.557063] RSP: 0018:ff6199c4c00539c0 EFLAGS: 00010295"
point "a valid EFLAGS (00010297) passes" cpu-ok-6.12-warning.log 1 ""
point "a log without register dumps passes" splat-oops.log 1 ""
point "an unreadable log is an error" does-not-exist.log 2 ""
