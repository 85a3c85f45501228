#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# make fuzz-check: run the store fuzzer over its seed corpus, then fuzz
# for FUZZ_CHECK_TIME seconds (default 5) into a scratch directory.
# Prints TAP; a crash leaves its input in build/fuzz/.
#
#   sh fuzz/check.sh FUZZER CORPUS
set -u
fuzzer=$1 corpus=$2
secs=${FUZZ_CHECK_TIME:-5}
out=../build/fuzz
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cowsnap-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

point() {	# rc description log
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2 (exit code $1)"
		tail -20 "$3" | sed 's/^/#   /'
		failed=1
	fi
}

echo "1..2"
seeds=$(ls "$corpus" | wc -l)
n=1
"$fuzzer" -runs=0 -artifact_prefix="$out/" "$corpus" >"$tmp/log" 2>&1
rc=$?
[ "$seeds" -gt 0 ] || rc=1
point $rc "the $seeds seed inputs run clean" "$tmp/log"
n=2
mkdir "$tmp/new"
"$fuzzer" -max_total_time="$secs" -artifact_prefix="$out/" "$tmp/new" \
	"$corpus" >"$tmp/log" 2>&1
point $? "$secs seconds of fuzzing find nothing" "$tmp/log"
exit $failed
