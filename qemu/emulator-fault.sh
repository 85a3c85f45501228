#!/bin/bash
# Look in a kernel console log for register dumps that no x86 CPU can
# produce: EFLAGS with a reserved bit set (3, 5, 15, 22-63) or bit 1
# clear.  The CPU pushes EFLAGS itself when it takes an exception, and no
# instruction can set those bits, so such a dump means the emulator's
# own CPU state was corrupt: the splat around it is QEMU's, not the
# guest's (Documentation/testing.rst, "Faults of the emulator").
#
# Usage: emulator-fault.sh <console.log>
# Prints each such line with its line number and exits 0 if there is
# one; exits 1 if there is none, 2 if the log cannot be read.
set -u
log=${1:?usage: emulator-fault.sh <console.log>}
[ -r "$log" ] || { echo "emulator-fault: cannot read $log" >&2; exit 2; }

# Bits 3, 5, 15 and 22-63 read as 0, bit 1 as 1, on every x86-64 CPU.
reserved=$((0xFFFFFFFFFFC08028))
found=1
n=0
while IFS= read -r line; do
	n=$((n + 1))
	[[ $line =~ EFLAGS:\ ([0-9a-fA-F]{1,16})([^0-9a-fA-F]|$) ]] || continue
	v=$((16#${BASH_REMATCH[1]}))
	if (( (v & reserved) != 0 || (v & 2) == 0 )); then
		echo "$n:${line%$'\r'}"
		found=0
	fi
done <"$log"
exit $found
