#!/bin/bash
# Shared by the host tests (sourced): a scratch directory $tmp removed on
# exit, and check DESCRIPTION REGEX ACTUAL, one TAP point that passes when
# an extended regex matches a line of ACTUAL.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
check() {	# description expected-output-regex actual
	n=$((n + 1))
	if grep -qE -- "$2" <<<"$3"; then echo "ok $n - $1"
	else echo "not ok $n - $1"; printf '#   got: %s\n' "$3" | head -5; fi
}
