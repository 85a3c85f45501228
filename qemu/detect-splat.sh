#!/bin/bash
# Scan a kernel console log for splats.
#
# Usage: detect-splat.sh <console.log>
# Prints each offending line with its line number; exits 1 if there is
# one, 0 if the log is clean, 2 if the log cannot be read.
#
# Caught: BUG, WARNING, KASAN, UBSAN, lockdep reports, kmemleak
# "unreferenced object", Oops, general protection faults, panics, hung
# tasks, RCU stalls, and any "Call Trace".  Tests that inject faults must
# keep the fault-injection framework quiet (verbose=0) so that an expected
# failure prints no stack trace.
set -u
log=${1:?usage: detect-splat.sh <console.log>}
[ -r "$log" ] || { echo "detect-splat: cannot read $log" >&2; exit 2; }

patterns=(
	'BUG:'
	'kernel BUG'
	'WARNING:'
	'KASAN:'
	'UBSAN:'
	'possible recursive locking'
	'possible circular locking'
	'inconsistent lock state'
	'suspicious RCU usage'
	'trying to register non-static key'
	'DEBUG_LOCKS_WARN_ON'
	'bad unlock balance'
	'held lock freed'
	'lock held when returning to user space'
	'unreferenced object'
	'Oops'
	'general protection fault'
	'Unable to handle kernel'
	'Kernel panic'
	'hung task'
	'blocked for more than'
	'detected stall'
	'Call Trace'
)
args=()
for p in "${patterns[@]}"; do args+=(-e "$p"); done
# Strip the carriage returns a serial console adds.
if tr -d '\r' <"$log" | grep -n -F "${args[@]}"; then
	exit 1
fi
exit 0
