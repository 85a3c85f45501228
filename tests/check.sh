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
#   scenarios  tests/vm/*.sh in the VM on each kernel, every scenario counted;
#              and make demo's narration on 6.12, one point
# Lint, host and the tool's build run in turn; the modules, KUnit and the
# scenarios in two lanes side by side (see "two lanes" below).
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
# The lanes know these three; any other name would be skipped silently.
for k in $kernels; do
	case "$k" in
	6.1|6.12|debug) ;;
	*) echo "check: unknown kernel '$k' (6.1, 6.12 or debug)" >&2; exit 2 ;;
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

t_check=$(date +%s)

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
if want build || want kunit || want scenarios; then
	if stage build-tool make -C "$top/userspace"; then
		want build && result build host tool ok
	else
		result build host tool FAIL "see build/check/build-tool.log"
	fi
fi

# ---- modules, kunit and scenarios: two lanes ----
# The debug kernel's build is the longest step and needs no VM, so two
# lanes run side by side:
#   debug lane  the debug kernel, its module, then one debug VM that
#               runs KUnit and the scenarios but debug_late's (a debug
#               boot, with its kmemleak scans, costs about a minute
#               under TCG)
#   stock lane  the 6.1 and 6.12 modules and scenarios, the demo, then
#               a debug VM for debug_late's scenarios
# With single-threaded TCG (run.sh's default) each VM takes one host
# CPU, so the two lanes' VMs run side by side: two such guests on this
# 2-core host each ran within 5% of one alone (2026-12-06, 6.1 beside
# 6.12, 266 s against 257 s; the debug VM, which keeps both vCPUs busy
# at times, took 1636 s in make check against 1232 s under multi, and
# the whole run 2382 s against 2464 s).  With COWSNAP_TCG_THREAD=multi
# or KVM each guest wants both CPUs, and only one VM runs at a time
# (flock on vm_lock): two multi-threaded guests side by side each ran
# 2.2 to 2.8 times slower than alone (2026-12-03, debug kernel) and
# stretched single scenarios towards the guest's 900 s limit.  A VM
# stage's time in times.tsv includes any wait for the lock.
# The debug lane is the longer (its kernel's build, then about 30 minutes
# of scenarios on a slow host, against 22 for the whole stock lane), so
# the stock lane ends with a second debug VM that runs the debug
# scenarios named in debug_late (the debug lane's VM leaves them out):
# 18 and 19, a quarter of the debug VM's time (305 s and 184 s of 1872 s
# on 2026-12-06).  It boots once the debug lane has built the module.
# Each lane keeps its own results and times; the summary merges them.
debug_late="18-*,19-*"
debug_built="$out/debug-built"
vm_lock="$out/vm.lock"
vm_alone=1
[ "${COWSNAP_TCG_THREAD:-single}" = single ] && [ "${COWSNAP_KVM:-0}" != 1 ] &&
	vm_alone=0

has_kernel() { [[ " $kernels " == *" $1 "* ]]; }

build_module() {	# kernel
	if stage "build-$1" "$top/qemu/build-module.sh" "$1"; then
		want build && result build "$1" module ok
	else
		result build "$1" module FAIL "see build/check/build-$1.log"
	fi
}

# vm_stage NAME KERNEL JOB FILTER: one VM (under the VM lock if
# vm_alone), logs in build/check/vm-NAME.  The debug kernel runs every
# scenario several times slower under TCG, and a host with CPU steal
# (26% seen on 2026-12-03) slows it again; the limit only catches a hung
# VM (a hung scenario is ended by the guest after 900 s).
vm_stage() {
	local lock=(flock "$vm_lock")

	[ $vm_alone = 1 ] || lock=()
	stage "$1" env COWSNAP_RUNDIR="$out/vm-$1" \
		COWSNAP_TIMEOUT="${COWSNAP_TIMEOUT:-3600}" \
		"${lock[@]}" "$top/qemu/run.sh" "$2" "$3" "$4"
}

# kunit_results VM_DIR: the KTAP between the guest's kunit markers, parsed
# by kunit.py, as results.
kunit_results() {
	local src
	sed -n '/cowsnap-kunit: start/,/cowsnap-kunit: end/p' "$1/console.log" \
		>"$out/kunit-console.log"
	if src=$("$top/qemu/linux-source.sh"); then
		python3 "$src/tools/testing/kunit/kunit.py" parse \
			--json="$out/kunit.json" "$out/kunit-console.log" \
			>"$out/kunit-parse.log" 2>&1
	fi
	python3 "$top/tests/results.py" kunit "$out/kunit.json" "$top"/dm-cowsnap/cowsnap-kunit.c >"$out/kunit.tsv" ||
		result kunit debug parse FAIL "no KUnit results (see build/check/kunit-parse.log)"
	cat "$out/kunit.tsv" >>"$results"
}

# splat_detail VM_DIR: the first splat lines a VM's run found, one line.
splat_detail() { echo "kernel splat: $(head -3 "$1/splats.txt" | tr '\n\t' '  ')"; }

# scenario_results KERNEL NAME RC [TSV]: the scenarios of VM NAME as
# results, and the VM's own failure (splat, time-out, an exit that no
# failing result of its own, or of TSV, explains).
scenario_results() {
	local k=$1 name=$2 rc=$3 vm="$out/vm-$2" mine="$out/$2.tsv"
	python3 "$top/tests/results.py" scenarios "$k" "$vm/job.log" >"$mine"
	cat "$mine" >>"$results"
	case $rc in
	0) ;;
	126) result scenarios "$k" splat FAIL "$(splat_detail "$vm")" ;;
	124) result scenarios "$k" vm FAIL "VM timed out ($name)" ;;
	*) cut -f4 "$mine" ${4:+"$4"} | grep -q FAIL ||
		result scenarios "$k" vm FAIL "VM exited $rc with no failing test (see build/check/$name.log)" ;;
	esac
}

debug_lane() {
	local job='' rc
	results="$out/results.debug-lane.tsv" times="$out/times.debug-lane.tsv"
	: >"$results"
	: >"$times"
	if stage debug-kernel "$top/qemu/build-debug-kernel.sh"; then
		want build && result build debug kernel ok
	else
		result build debug kernel FAIL "see build/check/debug-kernel.log"
	fi
	build_module debug
	touch "$debug_built"
	want kunit && job=kunit
	want scenarios && job=${job:+$job+}scenarios
	[ -n "$job" ] || return 0
	vm_stage debug "debug" "$job" "!${debug_late//,/,!}"
	rc=$?
	want kunit && kunit_results "$out/vm-debug"
	if want scenarios; then
		scenario_results debug debug $rc "$out/kunit.tsv"
	elif [ $rc != 0 ]; then
		result kunit debug vm FAIL "VM exited $rc (see build/check/debug.log)"
	fi
}

stock_lane() {
	local k rc
	results="$out/results.stock-lane.tsv" times="$out/times.stock-lane.tsv"
	: >"$results"
	: >"$times"
	for k in 6.1 6.12; do has_kernel "$k" && build_module "$k"; done
	want scenarios || return 0
	for k in 6.1 6.12; do
		has_kernel "$k" || continue
		vm_stage "scenarios-$k" "$k" scenarios "*"
		rc=$?
		scenario_results "$k" "scenarios-$k" $rc
	done
	has_kernel 6.12 && demo_result
	has_kernel debug && debug_late_stage
}

# debug_late_stage: the debug scenarios the debug lane leaves out, in a
# debug VM of their own once the debug lane's build is done (or that
# lane is gone).
debug_late_stage() {
	local rc
	while [ ! -e "$debug_built" ] && kill -0 "$debug_pid" 2>/dev/null; do
		sleep 5
	done
	vm_stage debug-late debug scenarios "$debug_late"
	rc=$?
	scenario_results debug debug-late $rc
}

# The demo (make demo) checks each step it narrates and fails on the
# first that does not do what it says: one point, so that it cannot
# fall behind the module unnoticed.
demo_result() {
	vm_stage demo-6.12 6.12 demo "*"
	case $? in
	0) result scenarios 6.12 demo ok ;;
	126) result scenarios 6.12 demo FAIL "$(splat_detail "$out/vm-demo-6.12")" ;;
	*) result scenarios 6.12 demo FAIL "$(grep -m1 'DEMO FAILED' "$out/demo-6.12.log" || echo "see build/check/demo-6.12.log")" ;;
	esac
}

if want build || want kunit || want scenarios; then
	lanes=()
	debug_pid=
	if has_kernel debug; then
		debug_lane &
		debug_pid=$!
		lanes+=($!)
	fi
	stock_lane &
	lanes+=($!)
	wait "${lanes[@]}"
	for lane in debug-lane stock-lane; do
		[ -f "$out/results.$lane.tsv" ] || continue
		cat "$out/results.$lane.tsv" >>"$results"
		cat "$out/times.$lane.tsv" >>"$times"
	done
fi

printf 'total\t%s\n' "$(( $(date +%s) - t_check ))" >>"$times"
python3 "$top/tests/results.py" summary "$results" "$times"
