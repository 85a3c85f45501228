#!/usr/bin/env python3
"""Fold test outputs into make check's results table, and summarise it.

Results are tab-separated lines: layer, kernel, name, ok|FAIL|SKIP, detail.

  results.py tap LAYER KERNEL PREFIX FILE   TAP stream -> one result a point
  results.py scenarios KERNEL JOBLOG        a VM scenarios job -> results
  results.py kunit JSON SRCDIR              kunit.py parse --json -> results
  results.py summary RESULTS TIMES          per layer and kernel, last line
                                            "N passed, N failed[, N skipped]"
"""
import json
import re
import sys

POINT = re.compile(r'^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')


def emit(layer, kernel, name, status, detail=''):
    name = name.replace('\t', ' ').strip() or '(unnamed)'
    print(f'{layer}\t{kernel}\t{name}\t{status}\t{detail}')


def parse_tap(lines):
    """Return (points, plan, bailed): points are (ok, num, desc, skip)."""
    points, plan, bailed = [], None, False
    for line in lines:
        line = line.rstrip('\r\n')
        m = PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        if line.startswith('Bail out!'):
            bailed = True
            continue
        m = POINT.match(line)
        if m:
            desc = m.group(3)
            skip = bool(re.search(r'#\s*SKIP', desc, re.I))
            desc = re.sub(r'\s*#\s*(SKIP|TODO).*$', '', desc, flags=re.I)
            points.append((m.group(1) == 'ok', m.group(2), desc, skip))
    return points, plan, bailed


def tap_to_results(layer, kernel, prefix, lines):
    points, plan, bailed = parse_tap(lines)
    for ok, num, desc, skip in points:
        status = 'SKIP' if skip else ('ok' if ok else 'FAIL')
        emit(layer, kernel, f'{prefix}: {num} {desc}', status)
    if plan is None:
        emit(layer, kernel, f'{prefix}: plan', 'FAIL', 'no TAP plan')
    elif plan != len(points):
        emit(layer, kernel, f'{prefix}: plan', 'FAIL',
             f'planned {plan} tests, ran {len(points)}')
    if bailed:
        emit(layer, kernel, f'{prefix}: bail out', 'FAIL', 'Bail out!')


def cmd_tap(layer, kernel, prefix, path):
    with open(path, errors='replace') as f:
        tap_to_results(layer, kernel, prefix, f.readlines())


def cmd_scenarios(kernel, path):
    try:
        with open(path, errors='replace') as f:
            lines = f.readlines()
    except OSError:
        emit('scenarios', kernel, 'job log', 'FAIL', f'cannot read {path}')
        return
    name, body, seen = None, [], 0
    for line in lines:
        line = line.rstrip('\r\n')
        m = re.match(r'^# SCENARIO (\S+)$', line)
        if m:
            if name:
                tap_to_results('scenarios', kernel, name, body)
                emit('scenarios', kernel, f'{name}: exit', 'FAIL',
                     'scenario did not finish')
            name, body = m.group(1), []
            seen += 1
            continue
        m = re.match(r'^# SCENARIO-EXIT (\S+) (\d+)$', line)
        if m and name:
            tap_to_results('scenarios', kernel, name, body)
            if m.group(2) != '0':
                emit('scenarios', kernel, f'{name}: exit', 'FAIL',
                     f'script exited {m.group(2)}')
            name = None
            continue
        if name:
            body.append(line)
    if name:
        tap_to_results('scenarios', kernel, name, body)
        emit('scenarios', kernel, f'{name}: exit', 'FAIL',
             'scenario did not finish (VM died or timed out)')
    if not seen:
        emit('scenarios', kernel, 'scenarios', 'FAIL', 'no scenario ran')


def kunit_cases(group, path=()):
    path = path + (group.get('name', '?'),)
    for case in group.get('test_cases', []):
        yield path, case
    for sub in group.get('sub_groups', []):
        yield from kunit_cases(sub, path)


def cmd_kunit(json_path, *sources):
    """Every KUnit case becomes a result; every suite named in the
    sources must have run."""
    expected = set()
    for src in sources:
        with open(src) as f:
            expected |= set(re.findall(r'\.name = "(dm_cowsnap_\w+)"', f.read()))
    try:
        with open(json_path) as f:
            root = json.load(f)
    except (OSError, ValueError) as e:
        emit('kunit', 'debug', 'results', 'FAIL', f'no KUnit JSON: {e}')
        return 1
    seen = set()
    for path, case in kunit_cases(root):
        suite = path[-1]
        seen.add(suite)
        status = case.get('status', 'FAIL')
        emit('kunit', 'debug', f'{suite}.{case.get("name")}',
             {'PASS': 'ok', 'SKIP': 'SKIP'}.get(status, 'FAIL'),
             '' if status == 'PASS' else status)
    for suite in sorted(expected - seen):
        emit('kunit', 'debug', suite, 'FAIL', 'suite did not run')
    return 0


LAYERS = ['lint', 'host', 'build', 'kunit', 'scenarios']
KERNELS = ['host', '6.1', '6.12', 'debug']


def summary_order(item):
    """Layers and kernels in a fixed order, whatever order lanes ran in."""
    (layer, kernel), _ = item

    def rank(names, name):
        return (names.index(name), '') if name in names else (len(names), name)
    return rank(LAYERS, layer), rank(KERNELS, kernel)


def cmd_summary(results_path, times_path):
    rows = []
    with open(results_path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) >= 4:
                rows.append((parts + [''])[:5])
    counts = {}
    for layer, kernel, _, status, _ in rows:
        c = counts.setdefault((layer, kernel), {'ok': 0, 'FAIL': 0, 'SKIP': 0})
        c[status] = c.get(status, 0) + 1
    print('\n==== make check summary ====')
    print(f'{"layer":<10} {"kernel":<7} {"passed":>7} {"failed":>7} {"skipped":>8}')
    for (layer, kernel), c in sorted(counts.items(), key=summary_order):
        print(f'{layer:<10} {kernel:<7} {c["ok"]:>7} {c["FAIL"]:>7} {c["SKIP"]:>8}')
    fails = [r for r in rows if r[3] == 'FAIL']
    if fails:
        print('\nfailures:')
        for layer, kernel, name, _, detail in fails:
            print(f'  {layer} [{kernel}] {name}' + (f': {detail}' if detail else ''))
    try:
        with open(times_path) as f:
            times = [l.rstrip('\n').split('\t') for l in f if '\t' in l]
        print('\nstage times (s): ' + ', '.join(f'{n} {s}' for n, s in times))
    except OSError:
        pass
    passed = sum(1 for r in rows if r[3] == 'ok')
    skipped = sum(1 for r in rows if r[3] == 'SKIP')
    tail = f', {skipped} skipped' if skipped else ''
    print(f'\n{passed} passed, {len(fails)} failed{tail}')
    return 1 if fails or not rows else 0


def main(argv):
    cmds = {'tap': cmd_tap, 'scenarios': cmd_scenarios, 'kunit': cmd_kunit,
            'summary': cmd_summary}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[1]](*argv[2:]) or 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
