#!/bin/bash
# Boot the test VM with a named kernel and run a job in it.
#
# Usage: run.sh <kernel> <job> [filter]
#   kernel  6.1, 6.12 or debug
#   job     scenarios, kunit, kunit+scenarios, demo, bench or shell
#           (see qemu/guest/init)
#   filter  for scenarios: globs of test names, comma-separated (default
#           all), "!GLOB" to leave some out; for bench: "quick" for the
#           reduced set
#
# Environment:
#   COWSNAP_TIMEOUT  seconds before the VM is killed (default 1200)
#   COWSNAP_KVM=1    use KVM instead of TCG (nested KVM hangs on some hosts)
#   COWSNAP_TCG_THREAD  single (default: both vCPUs on one host thread, in
#                    turn) or multi (one host thread per vCPU; the bench's
#                    default).  Multi-threaded TCG now and then corrupts a
#                    vCPU's state (Documentation/testing.rst, "Faults of
#                    the emulator"); single runs the scenarios as fast
#   COWSNAP_RUNDIR   where logs and disks go (default build/vm/<kernel>-<job>)
#   COWSNAP_QEMU_ARGS  more QEMU options, split at spaces; say
#                    "-icount shift=0,sleep=off" (with the single-threaded
#                    TCG) to count guest instructions as guest time
#                    (Documentation/testing.rst, "Comparing two builds")
#   COWSNAP_BENCH_RD_KIB  the bench job's RAM disk size (default 1179648)
#
# Three virtio disks backed by sparse files are attached: vda, vdb (1 GiB
# each) and vdc (2 GiB).  The kernel console goes to <rundir>/console.log,
# the job's output to <rundir>/job.log (and to stdout).  The exit status
# is the guest's job status; 124 on timeout, 125 when the guest died
# without reporting, 126 when the console shows a kernel splat.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:?usage: run.sh <kernel> <job> [filter]}
job=${2:?usage: run.sh <kernel> <job> [filter]}
filter=${3:-*}
eval "$("$top/qemu/kernel-info.sh" "$k")"
rundir=${COWSNAP_RUNDIR:-$top/build/vm/$k-$job}
timeout=${COWSNAP_TIMEOUT:-1200}
tcg_thread=${COWSNAP_TCG_THREAD:-single}
case $tcg_thread in
multi | single) ;;
*) echo "run.sh: COWSNAP_TCG_THREAD must be multi or single" >&2; exit 2 ;;
esac

rm -rf "$rundir" && mkdir -p "$rundir"
"$top/qemu/mkinitramfs.sh" "$k" "$rundir/initramfs.cpio"
truncate -s 1G "$rundir/disk0.img" "$rundir/disk1.img"
truncate -s 2G "$rundir/disk2.img"

accel="-accel tcg,thread=$tcg_thread"
[ "${COWSNAP_KVM:-0}" = 1 ] && accel="-accel kvm"
# acpi=noirq: ACPI PCI interrupt-link set-up costs ~25 s per virtio disk
# on the debug kernel under TCG; legacy routing is instant on all three.
# tsc=reliable: on a loaded host the clocksource watchdog sees TCG's TSC
# skew against the HPET and marks it unstable mid-run; the switch of
# sched_clock patches kernel text, and a guest CPU then hit a stale int3
# in sched_clock_cpu() ("Oops: int3", 6.12, 10-row-data, 2026-12-02).
# TCG's TSC follows the host clock, so it is reliable; skip the watchdog.
# The bench job (tests/bench/bench.sh) wants a 1152 MiB RAM disk (origin,
# store, thin-pool metadata, a reference slice and a reference store side
# by side), so more memory, and every slab cache on its own
# (slub_nomerge) so that /proc/slabinfo shows the module's caches.
rd_kib=524288 extra= mem_mib=2048
[ "$job" = bench ] && rd_kib=${COWSNAP_BENCH_RD_KIB:-1179648} extra=slub_nomerge mem_mib=3072
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=7 brd.rd_nr=1 brd.rd_size=$rd_kib cowsnap.job=$job cowsnap.filter=$filter acpi=noirq tsc=reliable $extra ${COWSNAP_APPEND:-}"
# shellcheck disable=SC2206
qemu=(qemu-system-x86_64 $accel -cpu max -smp 2 -m $mem_mib -no-reboot
      -kernel "$VMLINUZ" -initrd "$rundir/initramfs.cpio" -append "$cmdline"
      ${COWSNAP_QEMU_ARGS:-} -drive "file=$rundir/disk0.img,format=raw,if=virtio,cache=unsafe"
      -drive "file=$rundir/disk1.img,format=raw,if=virtio,cache=unsafe"
      -drive "file=$rundir/disk2.img,format=raw,if=virtio,cache=unsafe")

if [ "$job" = shell ]; then
	"${qemu[@]}" -nographic -serial mon:stdio -serial "file:$rundir/job.log"
	exit 0
fi

set +e
timeout -k 10 "$timeout" "${qemu[@]}" -display none -monitor none \
	-serial "file:$rundir/console.log" -serial "file:$rundir/job.log" &
qpid=$!
# Follow the job's output until QEMU exits; tail reads what is left first.
tail --pid=$qpid -s 0.5 -n +1 -F "$rundir/job.log" 2>/dev/null &
tpid=$!
wait $qpid
qrc=$?
wait $tpid
set -e

status=$(sed -n 's/^COWSNAP-STATUS: \([0-9]*\).*/\1/p' "$rundir/job.log" | tail -1)
rc=${status:-125}
[ "$qrc" = 124 ] && { echo "run: $k $job: timed out after ${timeout}s" >&2; rc=124; }
[ -n "$status" ] || [ "$rc" != 125 ] || echo "run: $k $job: guest died without reporting (see $rundir/console.log)" >&2
if ! "$top/qemu/detect-splat.sh" "$rundir/console.log" >"$rundir/splats.txt"; then
	echo "run: $k $job: kernel splat in $rundir/console.log:" >&2
	head -20 "$rundir/splats.txt" >&2
	if "$top/qemu/emulator-fault.sh" "$rundir/console.log" >"$rundir/emulator.txt"; then
		echo "run: $k $job: the splat comes with EFLAGS no x86 CPU can hold:" >&2
		head -3 "$rundir/emulator.txt" >&2
		echo "run: QEMU's own vCPU state was corrupt (Documentation/testing.rst, \"Faults of the emulator\")" >&2
	fi
	rc=126
fi
exit "$rc"
