#!/bin/bash
# make bench: build the module and the tool, boot ONE VM with Debian's
# 6.12 kernel, run tests/bench/bench.sh in it (fio on a brd RAM disk, or
# on the virtio disk vdc) and turn the guest's raw figures into
# results/bench-<date>/: results.md, results.json, ratios.png and the job
# log they came from.
#
# Usage: qemu/bench.sh [quick|full] [brd|virtio]
# Environment: COWSNAP_TIMEOUT (default 7200 s; 1800 s quick),
# COWSNAP_TCG_THREAD (default multi here: the figures at queue depth 32
# count on the worker running on the VM's other CPU at the same time).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
k=6.12
mode=${1:-full}
device=${2:-brd}
case $mode:$device in
quick:brd | quick:virtio | full:brd | full:virtio) ;;
*) echo "bench: usage: qemu/bench.sh [quick|full] [brd|virtio]" >&2; exit 2 ;;
esac
filter='*' timeout=7200
[ "$mode" = quick ] && filter=quick timeout=1800
[ "$device" = virtio ] && filter=$filter,virtio
rundir=$top/build/vm/$k-bench
out=$top/results/bench-$(date +%Y-%m-%d-%H%M%S)

make -s -C "$top/userspace" >/dev/null
"$top/qemu/build-module.sh" "$k"
echo "bench: booting the $k kernel under QEMU (TCG), $mode set on $device; progress below" >&2
set +e
COWSNAP_RUNDIR=$rundir COWSNAP_TIMEOUT=${COWSNAP_TIMEOUT:-$timeout} \
	COWSNAP_TCG_THREAD=${COWSNAP_TCG_THREAD:-multi} \
	"$top/qemu/run.sh" "$k" bench "$filter" |
	grep --line-buffered -e '^# bench' >&2
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
	echo "bench: the VM failed (exit $rc); logs in $rundir/" >&2
	exit "$rc"
fi
mkdir -p "$out"
cp "$rundir/job.log" "$out/job.log"
python3 "$top/tests/bench/bench.py" "$out/job.log" "$out"
echo "bench: results in ${out#"$top"/}/ (results.md, results.json, ratios.png, job.log)" >&2
