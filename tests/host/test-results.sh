#!/bin/bash
# Host test of tests/results.py, the parser make check trusts: failing,
# missing, skipped and unfinished tests must all count as such.  TAP.
top=$(cd "$(dirname "$0")/../.." && pwd)
r="python3 $top/tests/results.py"
. "$top/tests/host/tap.sh"
echo "1..14"

printf '1..3\nok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP no dust\n' >"$tmp/t"
out=$($r tap scenarios 6.1 s "$tmp/t")
check "a passing point is ok" $'^scenarios\t6.1\ts: 1 a\tok' "$out"
check "a failing point is FAIL" $'s: 2 b\tFAIL' "$out"
check "a skipped point is SKIP, not ok" $'s: 3 c\tSKIP' "$out"

printf '1..3\nok 1 - a\n' >"$tmp/t"
check "a short run fails its plan" $'plan\tFAIL\tplanned 3 tests, ran 1' "$($r tap host h x "$tmp/t")"

printf '# SCENARIO one\n1..1\nok 1 - fine\n# SCENARIO-EXIT one 0\n# SCENARIO two\n1..2\nok 1 - x\n' >"$tmp/j"
out=$($r scenarios debug "$tmp/j")
check "a finished scenario passes" $'one: 1 fine\tok' "$out"
check "a scenario cut short fails" $'two: exit\tFAIL\tscenario did not finish' "$out"

printf '# SCENARIO one\n1..1\nok 1 - fine\n# SCENARIO-EXIT one 3\n' >"$tmp/j"
check "a non-zero scenario exit fails" $'one: exit\tFAIL\tscript exited 3' "$($r scenarios 6.12 "$tmp/j")"

: >"$tmp/j"
check "a job with no scenario fails" $'no scenario ran' "$($r scenarios 6.12 "$tmp/j")"

cat >"$tmp/k.json" <<'J'
{"name": "KUnit Test Group", "test_cases": [], "sub_groups": [
 {"name": "dm_cowsnap_args", "test_cases": [{"name": "a", "status": "PASS"},
  {"name": "b", "status": "FAIL"}], "sub_groups": []}]}
J
printf '.name = "dm_cowsnap_args",\n.name = "dm_cowsnap_format",\n' >"$tmp/src.c"
out=$($r kunit "$tmp/k.json" "$tmp/src.c")
check "a passed KUnit case is ok" $'dm_cowsnap_args.a\tok' "$out"
check "a failed KUnit case is FAIL" $'dm_cowsnap_args.b\tFAIL' "$out"
check "a KUnit suite that did not run fails" $'dm_cowsnap_format\tFAIL\tsuite did not run' "$out"

printf 'scenarios\t6.1\tx\tok\t\nkunit\tdebug\ty\tFAIL\tboom\n' >"$tmp/res"
: >"$tmp/times"
out=$($r summary "$tmp/res" "$tmp/times"; echo "exit=$?")
check "the summary names the failing test and kernel" "kunit \[debug\] y: boom" "$out"
check "the summary ends with the counts and exits 1" "^1 passed, 1 failed exit=1 $" "$(tail -2 <<<"$out" | tr '\n' ' ')"

# Lanes finish in any order: the table's rows keep the layers' order.
printf 'scenarios\tdebug\tx\tok\t\nbuild\t6.1\tm\tok\t\nscenarios\t6.1\tx\tok\t\nbuild\tdebug\tm\tok\t\n' >"$tmp/res"
out=$($r summary "$tmp/res" "$tmp/times" | awk '$2 ~ /^(6.1|debug)$/ {printf "%s/%s ", $1, $2}')
check "the summary lists layers, then kernels, in order" "^build/6.1 build/debug scenarios/6.1 scenarios/debug $" "$out"
