#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run the host tests of the tool as one TAP stream, for "make test" and
# for "make check" (which reads a single plan):
#
#   sh tests/run.sh NAME:COMMAND...
#
# Each COMMAND (split at blanks) prints TAP.  Its points are renumbered
# and prefixed with NAME; its own plan is checked against the points it
# printed; a command that exits non-zero without a failed point adds a
# failed point.  Exits 1 if any point failed.

set -u

tmp=$(mktemp "${TMPDIR:-/tmp}/cowsnap-run.XXXXXX") || exit 1
trap 'rm -f "$tmp" "$tmp.n"' EXIT

total=0
failed=0

# Renumber the points of one command's output; leave "points plan
# failures" in $tmp.n.
renumber() {	# name base
	awk -v name="$1" -v base="$2" -v state="$tmp.n" '
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
	/^(not )?ok([ \t]|$)/ {
		n++
		notok = /^not /
		if (notok)
			bad++
		sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "")
		printf "%sok %d - %s: %s\n", notok ? "not " : "", base + n,
		       name, $0
		next
	}
	/^#/ { print; next }
	{ print "# " $0 }
	END { print n + 0, (plan == "" ? -1 : plan), bad + 0 > state }
	' "$tmp"
}

point() {	# ok|not_ok description
	total=$((total + 1))
	if [ "$1" = ok ]; then
		echo "ok $total - $2"
	else
		failed=$((failed + 1))
		echo "not ok $total - $2"
	fi
}

for spec in "$@"; do
	name=${spec%%:*}
	# shellcheck disable=SC2086 # the command is split at blanks
	${spec#*:} >"$tmp" 2>&1
	rc=$?
	echo "# $name: ${spec#*:}"
	renumber "$name" "$total"
	read -r points plan bad <"$tmp.n"
	total=$((total + points))
	failed=$((failed + bad))
	if [ "$plan" = -1 ]; then
		point not_ok "$name: no TAP plan (exit code $rc)"
	elif [ "$plan" != "$points" ]; then
		point not_ok "$name: planned $plan tests, ran $points"
	elif [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		point not_ok "$name: exited with $rc"
	fi
done

echo "1..$total"
if [ $failed != 0 ]; then
	echo "# $failed of $total host tests failed"
	exit 1
fi
echo "# all $total host tests passed"
