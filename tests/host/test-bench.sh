#!/bin/bash
# Host test of tests/bench/bench.py, make bench's post-processing: a canned
# job log (tests/host/fixtures/bench-job.log: three interleaved runs, CRLF
# as the serial port writes it, one unreadable fio output, a configuration
# the kernel refused, a failed fold, a lin figure, raw measured beside a
# snapshot read and a rollback, a fresh dm-snapshot measured beside a
# CoW first write, I/O requests counted in some runs and not in others,
# as in logs from before they were) must give the expected medians,
# ratios, verdicts and memory figures; so must the same log without the
# raw beside, and without the dm-snapshot beside.  TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
b="python3 $top/tests/bench/bench.py"
fx=$top/tests/host/fixtures/bench-job.log
. "$top/tests/host/tap.sh"
jq() {	# python expression over the results JSON as r
	python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($1)" "$tmp/out/results.json"
}
echo "1..28"

$b "$fx" "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr"
check "exits 0 on a good log" '^0$' "$?"
md=$(cat "$tmp/out/results.md")
check "prints results.md" '^# make bench results' "$(head -1 "$tmp/stdout")"
check "a figure is the median of its runs" '^\| raw \| 4K rand write QD1, fresh snapshot \| 2,000 IOPS \| 10\.0 \| 30\.0 \| 1\.00 \| 1\.00 \|' "$md"
check "ratios against raw, dm-snapshot, dm-snapshot beside and dm-thin" '^\| cow4 \| 4K rand write QD1, fresh snapshot \| 1,000 IOPS \| 31\.0 \| 61\.0 \| 3\.00 \| 2\.15 \| 0\.50 \| — \| 2\.22 \| 1\.83 \| 1\.11 \|' "$md"
check "requests per write: the median of the runs that count them (dm-snapshot 1,026 and 1,028 requests for 256 writes, none counted in run 3; dm-thin none counted, as in older logs)" '^dmsnap4 4\.01 thin64 n/a$' "$(grep -E '^\| (dmsnap4|thin64) \| 4K rand write QD1, fresh' <<<"$md" | awk -F' [|] ' '{printf "%s%s %s", (NR > 1 ? " " : ""), substr($1, 3), $7}')"
check "a target against dm-snapshot goes by a fresh dm-snapshot beside the figure, by the median of the runs' ratios (1.82, 2.25, 1.83)" '^\| cow4 \| 4K rand write QD1, fresh snapshot \|.*\| >= 2x dm-snapshot; I/O per byte <= dm-snapshot \| missed \(1/3\); met \(3/3\) \|$' "$md"
check "the JSON keeps the dm-snapshot beside of every run (the mean of before and after)" '^\[550\.?0?, 400\.?0?, 600\.?0?\]$' "$(jq "[x['samples']['dmsnap_beside'] for x in r['rows'] if x['config'] == 'cow4' and x['workload'] == 'w4k_qd1_first'][0]")"
check "a target against raw goes by the raw beside the figure, by the median of the runs' ratios (0.91, 0.80, 0.95)" '^\| cow4 \| 4K rand read, snapshot view \| 4,000 IOPS .*\| 0\.80 \| 0\.91 \| .*\| >= 0\.9x raw \| met \(2/3\) \|$' "$md"
check "the summary counts the rows whose runs disagree" '^\| >= 2x dm-snapshot \| 0 \| 1 \| 0 \| 1 \|$' "$md"
check "targets against raw shown next to one more dm layer (lin)" '^\| cow4 \| 4K rand read, snapshot view \| 0\.80 \| 0\.90 \| 0\.89 \|$' "$md"
check "a refused configuration is n/a with the kernel's reason" '^\| row4 \| all \| n/a \(row tables refused: Mode row is not implemented yet \(-EOPNOTSUPP\)\) \|' "$md"
check "rollback: median seconds and copy seconds, MB/s over the copy, ratios to raw, raw beside (0.48, 0.52, 0.58) and dm-snapshot's merge" '^\| cow4 \| rollback \| 8 \| 2\.000 \| 1\.600 \| 5\.2 \| 0\.31 \| 0\.52 \| 0\.50 \| >= 0\.5x raw sequential rate \| met \(2/3\) \|$' "$md"
check "an instant operation: no rate, under a second is met" '^\| cow4 \| fold \| 8 \| 0\.015 \| — \| — \| — \| — \| 0\.00 \| < 1 s \| met \|$' "$md"
check "a merge without its own time: MB/s over the seconds" '^\| dmsnap4 \| merge \| 8 \| 4\.000 \| — \| 2\.1 \| 0\.12 \| — \| — \|' "$md"
check "memory per exception from the slab caches" '^\| cow4 \| 1,000 \| 1,000 \| 32\.8 \| 42\.0 \| 1,000\.0 \| 1,953 \|$' "$md"
check "a reduced change size is said" '^Note: the RAM disk \(64 MiB\) only fits 8 MiB of changes, not 256\.$' "$md"
check "an unreadable fio output is reported, its run left out" 'thin64 r4k_snap: fio JSON unreadable.* runs=2$' "$(grep 'unreadable' <<<"$md") runs=$(jq "[x['runs'] for x in r['rows'] if x['config'] == 'thin64' and x['workload'] == 'r4k_snap'][0]")"
check "the JSON keeps every run's figure" '^\[1000\.?0?, 900\.?0?, 1100\.?0?\]$' "$(jq "[x['samples']['value'] for x in r['rows'] if x['config'] == 'cow4' and x['workload'] == 'w4k_qd1_first'][0]")"
$b "$fx" "$tmp/chart" >/dev/null 2>&1
check "the chart's data: throughput over raw per configuration" '^"4K rand write QD1, fresh snapshot" \? 0\.2250 0\.4500 0\.5000$' "$(cat "$tmp/chart/ratios.dat")"
# Without the raw beside: the targets against raw go by the raw row.
sed '/^@@beside/,/^@@end/d' "$fx" >"$tmp/nobeside.log"
$b "$tmp/nobeside.log" "$tmp/nb" >/dev/null 2>&1
nb=$(cat "$tmp/nb/results.md")
check "no raw beside: a target against raw goes by the raw row, missed says missed" '^\| cow4 \| 4K rand read, snapshot view \| 4,000 IOPS .*\| 0\.80 \| — \| .*\| >= 0\.9x raw \| missed \(0/3\) \|$' "$nb"
check "no raw beside: a merge goes by the raw row's 1M writes" '^\| cow4 \| rollback \| 8 \| 2\.000 \| 1\.600 \| 5\.2 \| 0\.31 \| — \| 0\.50 \| >= 0\.5x raw sequential rate \| missed \|$' "$nb"
check "no raw beside: the JSON has no ratio to it" '^None$' "$(python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print([x['ratio']['raw_beside'] for x in r['rows'] if x['config'] == 'cow4' and x['workload'] == 'r4k_snap'][0])" "$tmp/nb/results.json")"
check "the JSON keeps the raw beside of every run" '^\[4400\.?0?, 5000\.?0?, 4200\.?0?\]$' "$(jq "[x['samples']['raw_beside'] for x in r['rows'] if x['config'] == 'cow4' and x['workload'] == 'r4k_snap'][0]")"
# Without the dm-snapshot beside: the target goes by dm-snapshot's row.
sed '/^@@snapbeside/,/^@@end/d' "$fx" >"$tmp/nosnap.log"
$b "$tmp/nosnap.log" "$tmp/ns" >/dev/null 2>&1
ns=$(cat "$tmp/ns/results.md")
check "no dm-snapshot beside: targets met by the medians say met, and in how many runs against the same run's reference (2.50, 1.80, 2.44)" '^\| cow4 \| 4K rand write QD1, fresh snapshot \|.*\| 2\.22 \| — \| 1\.11 \| >= 2x dm-snapshot; I/O per byte <= dm-snapshot \| met \(2/3\); met \(3/3\) \|$' "$ns"
check "no dm-snapshot beside: the summary says met" '^\| >= 2x dm-snapshot \| 1 \| 0 \| 0 \| 1 \|$' "$ns"
check "the header names the RAM disk the slices were on (a log without device= is from brd)" '^Kernel [^;]*; brd RAM disk of 64 MiB;' "$md"
sed 's/^@@bench /&device=virtio /' "$fx" >"$tmp/virtio.log"
$b "$tmp/virtio.log" "$tmp/vio" >/dev/null 2>&1
check "make bench DEVICE=virtio: the header names the virtio disk" '^Kernel [^;]*; virtio disk vdc \(a sparse file on the host, cache=unsafe\) of 64 MiB;' "$(cat "$tmp/vio/results.md")"
printf '# guest: nothing\nCOWSNAP-STATUS: 0\n' >"$tmp/empty.log"
$b "$tmp/empty.log" "$tmp/empty" >/dev/null 2>&1
check "a log with no figures fails" '^1$' "$?"
