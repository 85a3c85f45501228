#!/bin/bash
# Host test of qemu/detect-splat.sh over canned console logs: every
# splat-*.log must be caught (and the offending line printed), every
# clean-*.log must pass.  TAP output.
top=$(cd "$(dirname "$0")/../.." && pwd)
fix="$top/tests/host/fixtures"
det="$top/qemu/detect-splat.sh"
logs=("$fix"/splat-*.log "$fix"/clean-*.log)
echo "1..$(( ${#logs[@]} + 1 ))"
n=0
for log in "${logs[@]}"; do
	n=$((n + 1))
	name=$(basename "$log")
	out=$("$det" "$log")
	rc=$?
	case "$name" in
	splat-*) if [ $rc = 1 ] && [ -n "$out" ]; then echo "ok $n - $name is caught: ${out%%$'\n'*}"
		 else echo "not ok $n - $name is not caught (exit $rc)"; fi ;;
	clean-*) if [ $rc = 0 ] && [ -z "$out" ]; then echo "ok $n - $name passes"
		 else echo "not ok $n - $name flagged (exit $rc): ${out%%$'\n'*}"; fi ;;
	esac
done
n=$((n + 1))
"$det" "$fix/does-not-exist.log" 2>/dev/null
rc=$?
if [ $rc = 2 ]; then echo "ok $n - an unreadable log is an error"; else echo "not ok $n - unreadable log gave exit $rc"; fi
