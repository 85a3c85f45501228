#!/bin/bash
# make check: every test of dm-cowsnap, then a summary per layer and per
# kernel and one final line "N passed, N failed".  Exits non-zero on any
# failure or kernel splat.
#
# Layers, in order:
#   lint       checkpatch.pl --strict over the module sources
#   host       host tests: splat detector, KTAP summariser, the tool
#   build      the module on 6.1, 6.12 and debug under W=1 and sparse
#   kunit      the KUnit suites in the debug kernel, every case counted
#   scenarios  tests/vm/*.sh in the VM on each kernel, every scenario counted
#
# Usage: tests/check.sh [--only "LAYER..."] [--kernels "6.1 6.12 debug"]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

only=
kernels="6.1 6.12 debug"
while [ $# -gt 0 ]; do
	case "$1" in
	--only) only=$2; shift 2 ;;
	--kernels) kernels=$2; shift 2 ;;
	*) echo "check: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

out="$top/build/check"
rm -rf "$out" && mkdir -p "$out"
results="$out/results.tsv"	# layer kernel name ok|FAIL detail
times="$out/times.tsv"		# stage seconds
: >"$results"
: >"$times"

result() {	# layer kernel name ok|FAIL [detail]
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$results"
	[ "$4" = ok ] || echo "check: FAIL $1 $2 $3 ${5:-}" >&2
}

stage() {	# name command...: run, time, log to build/check/<name>.log
	local name=$1 t0 rc
	shift
	echo "check: --- $name" >&2
	t0=$(date +%s)
	"$@" >"$out/$name.log" 2>&1
	rc=$?
	printf '%s\t%s\n' "$name" "$(( $(date +%s) - t0 ))" >>"$times"
	return $rc
}

want() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }

# Fold a TAP stream into results: one per test point.
tap_results() {	# layer kernel prefix file
	python3 "$top/tests/results.py" tap "$@" >>"$results"
}

# ---- lint ----
lint_checkpatch() {
	local src
	src=$("$top/qemu/linux-source.sh") || return 1
	perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types -f "$top"/dm-cowsnap/*.[ch]
}
if want lint; then
	if stage checkpatch lint_checkpatch &&
	   ! grep -qE ': (ERROR|WARNING|CHECK):' "$out/checkpatch.log"; then
		result lint host checkpatch ok
	else
		result lint host checkpatch FAIL "see build/check/checkpatch.log"
	fi
fi

# ---- host ----
if want host; then
	for t in "$top"/tests/host/test-*.sh; do
		n=$(basename "$t" .sh)
		stage "host-$n" bash "$t"
		tap_results host host "$n" "$out/host-$n.log"
	done
	stage host-tool make -C "$top/userspace" test
	rc=$?
	tap_results host host tool "$out/host-tool.log"
	[ $rc = 0 ] || result host host tool-exit FAIL "make -C userspace test exited $rc"
fi

# ---- build ----
tool_built=0
if want build || want kunit || want scenarios; then
	if stage build-tool make -C "$top/userspace"; then
		tool_built=1
		want build && result build host tool ok
	else
		result build host tool FAIL "see build/check/build-tool.log"
	fi
	if [[ " $kernels " == *" debug "* ]]; then
		if stage debug-kernel "$top/qemu/build-debug-kernel.sh"; then
			want build && result build debug kernel ok
		else
			result build debug kernel FAIL "see build/check/debug-kernel.log"
		fi
	fi
	for k in $kernels; do
		if stage "build-$k" "$top/qemu/build-module.sh" "$k"; then
			want build && result build "$k" module ok
		else
			result build "$k" module FAIL "see build/check/build-$k.log"
		fi
	done
fi

# ---- kunit ----
run_kunit() {
	local src
	src=$("$top/qemu/linux-source.sh") || return 1
	COWSNAP_RUNDIR="$out/vm-debug-kunit" "$top/qemu/run.sh" debug kunit
	local rc=$?
	sed -n '/cowsnap-kunit: start/,$p' "$out/vm-debug-kunit/console.log" \
		>"$out/kunit-console.log"
	python3 "$src/tools/testing/kunit/kunit.py" parse \
		--json="$out/kunit.json" "$out/kunit-console.log" \
		>"$out/kunit-parse.log" 2>&1
	return $rc
}
if want kunit && [[ " $kernels " == *" debug "* ]]; then
	stage kunit run_kunit
	rc=$?
	python3 "$top/tests/results.py" kunit "$out/kunit.json" "$top"/dm-cowsnap/cowsnap-kunit.c >>"$results" ||
		result kunit debug parse FAIL "no KUnit results (see build/check/kunit.log)"
	[ $rc = 0 ] || result kunit debug vm FAIL "VM exited $rc (see build/check/kunit.log)"
fi

# ---- scenarios ----
if want scenarios; then
	for k in $kernels; do
		# The debug kernel runs every scenario several times slower
		# under TCG; the limit only catches hangs.
		stage "scenarios-$k" env COWSNAP_RUNDIR="$out/vm-$k-scenarios" \
			COWSNAP_TIMEOUT="${COWSNAP_TIMEOUT:-2400}" \
			"$top/qemu/run.sh" "$k" scenarios
		rc=$?
		python3 "$top/tests/results.py" scenarios "$k" \
			"$out/vm-$k-scenarios/job.log" >>"$results"
		case $rc in
		0) ;;
		126) result scenarios "$k" splat FAIL "kernel splat: $(head -3 "$out/vm-$k-scenarios/splats.txt" | tr '\n\t' '  ')" ;;
		124) result scenarios "$k" vm FAIL "VM timed out" ;;
		*) grep -q FAIL <(awk -F'\t' -v k="$k" '$1=="scenarios" && $2==k {print $4}' "$results") ||
			result scenarios "$k" vm FAIL "VM exited $rc with no failing scenario (see build/check/scenarios-$k.log)" ;;
		esac
	done
fi

python3 "$top/tests/results.py" summary "$results" "$times"
