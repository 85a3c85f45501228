#!/usr/bin/env python3
"""make bench, the host side: the guest's job log -> tables and a chart.

  bench.py JOBLOG OUTDIR [--no-chart]

Reads the records tests/bench/bench.sh prints (@@bench, @@fio ... @@end,
@@beside ... @@end, @@snapbeside ... @@end, @@io, @@op, @@mem, @@na,
@@fail), takes the median of every figure over the runs, computes ratios
against the raw device, dm-snapshot (same chunk size) and dm-thin, and
against raw or a fresh dm-snapshot measured beside the figure (right
before and after it, on slices of their own), checks the targets
(printed, never asserted; those against raw and dm-snapshot by the
reference beside, where there is one) and
writes OUTDIR/results.json, OUTDIR/results.md and, with gnuplot,
OUTDIR/ratios.png (throughput of each configuration over raw).  Prints
results.md.  Python 3 standard library only.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

CONFIG_NAMES = {
    'raw': 'raw (linear slice of the disk)',
    'lin': 'dm-linear over the raw slice (one more dm layer)',
    'dmsnap4': 'dm-snapshot P, 4 KiB chunks',
    'dmsnap64': 'dm-snapshot P, 64 KiB chunks',
    'thin64': 'dm-thin snapshot, 64 KiB blocks',
    'cow4': 'cowsnap cow, 4 KiB chunks',
    'cow64': 'cowsnap cow, 64 KiB chunks',
    'row4': 'cowsnap row, 4 KiB chunks',
    'row64': 'cowsnap row, 64 KiB chunks',
}
WORKLOADS = [
    ('w4k_qd1_first', '4K rand write QD1, fresh snapshot'),
    ('w4k_qd1_copied', '4K rand write QD1, chunks copied'),
    ('w4k_qd32_first', '4K rand write QD32, fresh snapshot'),
    ('w4k_qd32_copied', '4K rand write QD32, chunks copied'),
    ('w1m_seq_first', '1M seq write, fresh snapshot'),
    ('r4k_snap', '4K rand read, snapshot view'),
    ('r1m_snap', '1M seq read, snapshot view'),
    ('r4k_live', '4K rand read, live view'),
    ('r1m_live', '1M seq read, live view'),
]
WORKLOAD_NAMES = dict(WORKLOADS)
THIN = 'thin64'
LIN = 'lin'


def chunk_kib(cfg):
    m = re.search(r'(\d+)$', cfg)
    return int(m.group(1)) if m else None


def mode(cfg):
    return re.sub(r'\d+$', '', cfg)


def parse(lines):
    """The guest's records, by kind."""
    d = {'meta': {}, 'fio': {}, 'beside': {}, 'snapbeside': {}, 'io': {},
         'op': {}, 'mem': {}, 'na': {}, 'fail': [], 'notes': []}
    body = None
    for line in lines:
        line = line.rstrip('\r\n')
        if body is not None:
            if line == '@@end':
                key, text = body
                try:
                    js = json.loads('\n'.join(text))
                    if key[3] == 'fio':
                        d['fio'].setdefault(key[:2], {})[key[2]] = js
                    else:	# before and after: a list
                        d[key[3]].setdefault(key[:2], {}) \
                            .setdefault(key[2], []).append(js)
                except ValueError as e:
                    d['fail'].append((key[0], key[1], key[2],
                                      f'fio JSON unreadable: {e}'))
                body = None
            else:
                body[1].append(line)
            continue
        w = line.split()
        if not w:
            continue
        if w[0] == '@@bench':
            d['meta'] = dict(x.split('=', 1) for x in w[1:] if '=' in x)
        elif w[0] in ('@@fio', '@@beside', '@@snapbeside') and len(w) == 4:
            body = ((w[1], w[2], int(w[3]), w[0][2:]), [])
        elif w[0] == '@@io' and len(w) in (6, 8):
            io = [int(x) for x in w[4:]]  # requests: not in older logs
            d['io'].setdefault((w[1], w[2]), {})[int(w[3])] = \
                tuple(io + [None] * (4 - len(io)))
        elif w[0] == '@@op' and len(w) in (6, 7):
            d['op'].setdefault((w[1], w[2]), {})[int(w[3])] = \
                (float(w[4]), int(w[5]),
                 float(w[6]) if len(w) == 7 else None)
        elif w[0] == '@@mem' and len(w) >= 5:
            kv = {}
            for x in w[5:]:
                k, _, v = x.partition('=')
                kv[k] = v
            d['mem'].setdefault((w[1], int(w[2])), {}) \
                .setdefault(int(w[3]), {})[w[4]] = kv
        elif w[0] == '@@na':
            d['na'].setdefault(w[1], ' '.join(w[2:]))
        elif w[0] == '@@fail' and len(w) >= 4:
            d['fail'].append((w[1], w[2], w[3], ' '.join(w[4:])))
        elif line.startswith('# bench:') and 'only fits' in line:
            d['notes'].append(line[len('# bench: '):])
    return d


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fio_figures(js, workload):
    """(throughput, p50 us, p99 us, bytes) of one fio run."""
    job = js['jobs'][0]
    side = job['write' if workload.startswith('w') else 'read']
    pct = side.get('clat_ns', {}).get('percentile', {})
    p50 = pct.get('50.000000')
    p99 = pct.get('99.000000')
    if '1m' in workload:
        tput = side['bw_bytes'] / 1e6		# MB/s
    else:
        tput = side['iops']
    return (tput, p50 / 1000 if p50 is not None else None,
            p99 / 1000 if p99 is not None else None, side['io_bytes'])


def workload_bs(workload):
    """The bytes of one fio request of a workload."""
    return 1 << 20 if '1m' in workload else 4096


def beside_value(d, cfg, what, run, workload, kind='beside'):
    """Raw (kind 'beside') or dm-snapshot ('snapbeside') measured beside a
    figure (before and after it): their mean, or None."""
    js = d[kind].get((cfg, what), {}).get(run)
    if not js:
        return None
    return statistics.mean(fio_figures(j, workload)[0] for j in js)


def rows_of(d):
    """One row per configuration and workload measured: medians."""
    configs = []
    for cfg, _ in d['fio']:
        if cfg not in configs:
            configs.append(cfg)
    order = list(CONFIG_NAMES)
    configs.sort(key=lambda c: order.index(c) if c in order else len(order))
    rows = []
    for cfg in configs:
        for wl, _ in WORKLOADS:
            runs = d['fio'].get((cfg, wl))
            if not runs:
                continue
            figs = {run: fio_figures(js, wl) for run, js in runs.items()}
            ids = sorted(figs)
            amps, reqs = {}, {}
            for run, (_, _, _, nbytes) in figs.items():
                io = d['io'].get((cfg, wl), {}).get(run)
                if io and nbytes and wl.startswith('w'):
                    amps[run] = (io[0] + io[1]) * 512 / nbytes
                    if io[2] is not None:
                        reqs[run] = (io[2] + io[3]) / (nbytes /
                                                       workload_bs(wl))
            rows.append({
                'config': cfg, 'workload': wl,
                'unit': 'MB/s' if '1m' in wl else 'IOPS',
                'value': median(f[0] for f in figs.values()),
                'p50_us': median(f[1] for f in figs.values()),
                'p99_us': median(f[2] for f in figs.values()),
                'io_per_byte': median(amps.values()),
                'requests_per_write': median(reqs.values()),
                'runs': len(figs),
                'run_ids': ids,
                'samples': {
                    'value': [figs[r][0] for r in ids],
                    'p50_us': [figs[r][1] for r in ids],
                    'p99_us': [figs[r][2] for r in ids],
                    'io_per_byte': [amps.get(r) for r in ids],
                    'requests_per_write': [reqs.get(r) for r in ids],
                    'raw_beside': [beside_value(d, cfg, wl, r, wl)
                                   for r in ids],
                    'dmsnap_beside': [beside_value(d, cfg, wl, r, wl,
                                                   'snapbeside')
                                      for r in ids],
                },
            })
    return rows


def ratio(a, b):
    return a / b if a is not None and b else None


def paired(r, base_row, key):
    """(the row's figure, its reference's) run by run, for the runs both
    have: the spread that a median hides."""
    if not base_row:
        return []

    def by_run(x):
        return {run: v for run, v in zip(x['run_ids'], x['samples'][key])
                if v is not None}

    mine, theirs = by_run(r), by_run(base_row)
    return [(mine[k], theirs[k]) for k in sorted(mine) if k in theirs]


def beside_pairs(samples, ref='raw'):
    """(figure, the reference @ref measured beside it) of each run that
    has both."""
    return [(a, b) for a, b in zip(samples['value'],
                                   samples.get(f'{ref}_beside', []))
            if a is not None and b]


def add_ratios(rows):
    by = {(r['config'], r['workload']): r for r in rows}

    def base(cfg, wl):
        r = by.get((cfg, wl))
        return r and r['value']

    for r in rows:
        cfg, wl = r['config'], r['workload']
        dms = f'dmsnap{chunk_kib(cfg)}' if cfg != THIN else 'dmsnap64'
        plain = cfg in ('raw', LIN)
        r['ratio'] = {
            'raw': None if cfg == 'raw' else ratio(r['value'], base('raw', wl)),
            'dmsnap': None if plain or mode(cfg) == 'dmsnap'
            else ratio(r['value'], base(dms, wl)),
            'thin': None if plain or cfg == THIN
            else ratio(r['value'], base(THIN, wl)),
            'lin': None if plain else ratio(r['value'], base(LIN, wl)),
            'raw_beside': median(a / b for a, b in beside_pairs(r['samples'])),
            'dmsnap_beside': median(a / b for a, b in
                                    beside_pairs(r['samples'], 'dmsnap')),
        }
        r['targets'] = targets(r, {'raw': by.get(('raw', wl)),
                                   'dmsnap': by.get((dms, wl)),
                                   'thin': by.get((THIN, wl))})


def targets(r, refs):
    """The targets that apply to a row: text, met (by the medians, or
    None), and in how many of the runs both have the row met it against
    the same run of its reference (refs: the raw, dm-snapshot and dm-thin
    rows of the workload).  A target against raw or dm-snapshot goes by
    that reference measured beside the figure where it was: met if the
    median of the runs' ratios is."""
    cfg, wl, rt = r['config'], r['workload'], r['ratio']
    out = []

    def add(text, met, per_run):
        out.append({'target': text, 'met': met,
                    'runs_met': sum(1 for x in per_run if x),
                    'runs': len(per_run)})

    def at_least(text, ref, limit):
        pairs = beside_pairs(r['samples'], ref)
        if pairs:
            add(text, rt[f'{ref}_beside'] >= limit,
                [a / b >= limit for a, b in pairs])
            return
        x = rt[ref]
        add(text, None if x is None else x >= limit,
            [a / b >= limit for a, b in paired(r, refs[ref], 'value') if b])

    if cfg == 'cow4' and wl.endswith('_first'):
        at_least('>= 2x dm-snapshot', 'dmsnap', 2.0)
    if mode(cfg) == 'row' and wl.startswith('w'):
        at_least('>= 0.8x raw', 'raw', 0.8)
        at_least('>= 1.0x dm-thin', 'thin', 1.0)
    if mode(cfg) in ('cow', 'row') and (wl.endswith('_copied') or
                                        wl.endswith('_snap')):
        at_least('>= 0.9x raw', 'raw', 0.9)
    if mode(cfg) == 'cow' and wl.endswith('_first'):
        dr = refs['dmsnap']
        mine, theirs = r['io_per_byte'], dr and dr['io_per_byte']
        add('I/O per byte <= dm-snapshot',
            None if mine is None or theirs is None
            else mine <= theirs + 1e-9,
            [a <= b + 1e-9 for a, b in paired(r, dr, 'io_per_byte')])
    return out


# What each operation copies: (mode, op) -> True for a merge (a copy of
# the changes into the origin), False for an instant one.
COPIES = {('cow', 'rollback'): True, ('row', 'fold'): True,
          ('dmsnap', 'merge'): True,
          ('cow', 'fold'): False, ('row', 'rollback'): False}


def op_targets(o):
    """The targets of one operation: a merge copies at no less than half
    the raw device's sequential write rate (the raw beside it where
    measured: by the median of the runs' ratios, with the runs that met
    it), an instant one takes under a second."""
    copies = COPIES.get((mode(o['config']), o['op']))
    if mode(o['config']) not in ('cow', 'row') or copies is None:
        return []
    if copies:
        text = '>= 0.5x raw sequential rate'
        pairs = o['beside_pairs']
        if pairs:
            per_run = [a / b >= 0.5 for a, b in pairs]
            return [{'target': text, 'met': o['ratio_raw_beside'] >= 0.5,
                     'runs_met': sum(per_run), 'runs': len(per_run)}]
        x = o['ratio_raw_seq']
        return [{'target': text,
                 'met': None if x is None else x >= 0.5}]
    return [{'target': '< 1 s', 'met': None if o['seconds'] is None
             else o['seconds'] < 1.0}]


def op_rate(seconds, mib, copy):
    """MB/s of a merge of MIB (an @@op record's figures), over its own
    time where there is one."""
    t = copy or seconds
    return mib * 1048576 / 1e6 / t if mib and t else None


def op_beside_pairs(d, cfg, op, runs):
    """(a merge's MB/s, raw's 1 MiB sequential writes beside it) of each
    run that has both."""
    out = []
    for run in sorted(runs):
        b = beside_value(d, cfg, op, run, 'w1m_seq_first')
        a = op_rate(*runs[run])
        if a and b:
            out.append((a, b))
    return out


def ops_of(d, rows):
    out = []
    for (cfg, op), runs in sorted(d['op'].items()):
        copy = [c for _, _, c in runs.values() if c is not None]
        out.append({'config': cfg, 'op': op,
                    'seconds': median(s for s, _, _ in runs.values()),
                    'copy_seconds': median(copy) if copy else None,
                    'mib': median(m for _, m, _ in runs.values()),
                    'runs': len(runs),
                    'samples': [runs[r][0] for r in sorted(runs)]})
    merges = {o['config']: o['seconds'] for o in out if o['op'] == 'merge'}
    raw_seq = next((r['value'] for r in rows if r['config'] == 'raw' and
                    r['workload'] == 'w1m_seq_first'), None)
    for o in out:
        m = merges.get(f'dmsnap{chunk_kib(o["config"])}')
        o['ratio_dmsnap_merge'] = (ratio(o['seconds'], m)
                                   if o['op'] != 'merge' else None)
        copies = COPIES.get((mode(o['config']), o['op']))
        o['mb_per_s'] = (op_rate(o['seconds'], o['mib'], o['copy_seconds'])
                         if copies else None)
        o['ratio_raw_seq'] = ratio(o['mb_per_s'], raw_seq) if copies else None
        o['beside_pairs'] = (op_beside_pairs(d, o['config'], o['op'],
                                             d['op'][(o['config'], o['op'])])
                             if copies else [])
        o['ratio_raw_beside'] = median(a / b for a, b in o['beside_pairs'])
        o['targets'] = op_targets(o)
    return out


CACHES = {'cow': ('cowsnap_',), 'row': ('cowsnap_',),
          'dmsnap': ('dm_exception', 'dm_snap_')}
EXC_CACHE = {'cow': 'cowsnap_exception', 'row': 'cowsnap_exception',
             'dmsnap': 'dm_exception'}


def slab_bytes(stage, prefixes):
    total = 0
    for k, v in stage.items():
        if k.startswith('slab:') and k[5:].startswith(prefixes):
            f = v.split(':')	# active:num:objsize:perslab:pages:slabs
            total += int(f[4]) * int(f[5]) * 4096
    return total


def objs(stage, name):
    v = stage.get(f'slab:{name}')
    return int(v.split(':')[0]) if v else 0


def mem_of(d):
    out = []
    for (cfg, n), runs in sorted(d['mem'].items()):
        m = mode(cfg)
        per = {'cache': [], 'slab': [], 'memfree': [], 'objects': [],
               'fixed': []}
        for st in runs.values():
            b, c, f = st.get('before'), st.get('created'), st.get('filled')
            if not (b and c and f):
                continue
            num = lambda s, k: int(s.get(k, 0))
            per['cache'].append((slab_bytes(f, CACHES[m]) -
                                 slab_bytes(c, CACHES[m])) / n)
            per['slab'].append((num(f, 'Slab') - num(c, 'Slab')) / n)
            per['memfree'].append((num(c, 'MemFree') - num(f, 'MemFree')) / n)
            per['objects'].append(objs(f, EXC_CACHE[m]) - objs(c, EXC_CACHE[m]))
            per['fixed'].append(num(b, 'MemFree') - num(c, 'MemFree'))
        out.append({'config': cfg, 'exceptions': n, 'runs': len(per['slab']),
                    'exception_objects': median(per['objects']),
                    'cache_bytes_per_exception': median(per['cache']),
                    'slab_bytes_per_exception': median(per['slab']),
                    'memfree_bytes_per_exception': median(per['memfree']),
                    'fixed_bytes_at_creation': median(per['fixed'])})
    return out


def fmt(x, nd=0):
    if x is None:
        return 'n/a'
    if nd == 0:
        return f'{x:,.0f}'
    return f'{x:,.{nd}f}'


def fmt_copy(x):
    return '—' if x is None else fmt(x, 3)


def verdict(met):
    return 'n/a' if met is None else ('met' if met else 'missed')


def run_verdict(t):
    """A row's verdict, with the runs that met it when there are several."""
    v = verdict(t['met'])
    if t['met'] is None or t.get('runs', 0) < 2:
        return v
    return f"{v} ({t['runs_met']}/{t['runs']})"


def fmt_ratio(x):
    return '—' if x is None else f'{x:.2f}'


def read_cover(meta):
    """What the workloads cover beyond the region (logs that say so)."""
    if 'read_loops' not in meta:
        return ''
    return (f" (1 MiB sequential first writes: the {meta.get('changes_mib', '?')}"
            f" MiB of changes; reads: the region {meta['read_loops']} times)")


def disk_name(meta):
    """What the slices were on (logs from before the key: brd)."""
    if meta.get('device') == 'virtio':
        return ('virtio disk vdc (a sparse file on the host, '
                'cache=unsafe)')
    return 'brd RAM disk'


def report(d):
    rows = rows_of(d)
    add_ratios(rows)
    ops = ops_of(d, rows)
    mem = mem_of(d)
    meta = d['meta']
    md = []
    md.append('# make bench results')
    md.append('')
    md.append(f"Kernel {meta.get('kernel', '?')}, QEMU TCG; "
              f"{disk_name(meta)} of "
              f"{meta.get('ram_mib', '?')} MiB; each figure the median of "
              f"{meta.get('runs', '?')} interleaved run(s)"
              f"{' (QUICK: reduced set)' if meta.get('quick') == '1' else ''}; "
              f"fio --direct=1, seed {meta.get('seed', '?')}; workloads cover "
              f"{meta.get('region_mib', '?')} MiB, each block once"
              f"{read_cover(meta)}.  Only ratios within one run mean "
              'anything.  A verdict is that of the medians; (k/N): the '
              'row met the target in k of its N runs, each against the '
              'same run of the reference.  × raw beside: against raw '
              'measured on a slice of its own right before and right '
              'after the figure (their mean), the median of the runs\' '
              'ratios; × dm-snapshot beside: the same, against a fresh '
              'dm-snapshot of a slice of its own; the targets against '
              'raw and dm-snapshot go by these where they were '
              'measured.')
    for note in d['notes']:
        md.append('')
        md.append(f'Note: {note}.')
    md.append('')
    md.append('| configuration | workload | result | p50 µs | p99 µs | '
              'I/O per byte written | I/O requests per write | × raw | '
              '× raw beside | × dm-snapshot | × dm-snapshot beside | '
              '× dm-thin | target | verdict |')
    md.append('|' + ' --- |' * 14)
    for r in rows:
        tg = r['targets']
        md.append('| ' + ' | '.join([
            r['config'], WORKLOAD_NAMES[r['workload']],
            f"{fmt(r['value'], 1 if r['unit'] == 'MB/s' else 0)} {r['unit']}",
            fmt(r['p50_us'], 1), fmt(r['p99_us'], 1),
            fmt(r['io_per_byte'], 2) if r['workload'].startswith('w') else '',
            fmt(r['requests_per_write'], 2)
            if r['workload'].startswith('w') else '',
            fmt_ratio(r['ratio']['raw']), fmt_ratio(r['ratio']['raw_beside']),
            fmt_ratio(r['ratio']['dmsnap']),
            fmt_ratio(r['ratio']['dmsnap_beside']),
            fmt_ratio(r['ratio']['thin']),
            '; '.join(t['target'] for t in tg),
            '; '.join(run_verdict(t) for t in tg),
        ]) + ' |')
    for cfg, why in d['na'].items():
        md.append(f'| {cfg} | all | n/a ({why}) |' + ' |' * 11)
    stacked = [r for r in rows if r['ratio']['lin'] is not None and
               any(t['target'].endswith('x raw') for t in r['targets'])]
    if stacked:
        md.append('')
        md.append('The targets against raw, next to what one more dm layer '
                  'doing nothing (lin, a dm-linear over the raw slice) '
                  'reaches in the same run:')
        md.append('')
        md.append('| configuration | workload | × raw | lin × raw | × lin |')
        md.append('|' + ' --- |' * 5)
        for r in stacked:
            lin = next((x for x in rows if x['config'] == LIN and
                        x['workload'] == r['workload']), None)
            md.append(f"| {r['config']} | {WORKLOAD_NAMES[r['workload']]} | "
                      f"{fmt_ratio(r['ratio']['raw'])} | "
                      f"{fmt_ratio(lin and lin['ratio']['raw'])} | "
                      f"{fmt_ratio(r['ratio']['lin'])} |")
    md.append('')
    md.append('Configurations: ' + '; '.join(
        f'{k}: {v}' for k, v in CONFIG_NAMES.items()) + '.  × dm-snapshot '
        'compares with dm-snapshot of the same chunk size (dm-thin with the '
        '64 KiB one); dm-thin has 64 KiB blocks at the least.')
    if ops:
        md.append('')
        md.append('## Roll back, fold, merge')
        md.append('')
        md.append('Seconds from the message (dm-snapshot: from loading '
                  'snapshot-merge) to the end, dmsetup runs included; copy '
                  's: a cowsnap merge\'s own time in its log, begin to end; '
                  'MB/s (over copy s where there is one) and × raw for the '
                  'operations that copy the changes into the origin, '
                  'against the raw slice\'s 1M sequential writes; × raw '
                  'beside: against 1M sequential writes of the same size '
                  'to the reference slice right before and right after '
                  'the operation, the median of the runs\' ratios.')
        md.append('')
        md.append('| configuration | operation | changes MiB | seconds | '
                  'copy s | MB/s | × raw seq write | × raw beside | '
                  '× dm-snapshot merge | target | verdict |')
        md.append('|' + ' --- |' * 11)
        for o in ops:
            tg = o.get('targets', [])
            md.append(f"| {o['config']} | {o['op']} | {fmt(o['mib'])} | "
                      f"{fmt(o['seconds'], 3)} | "
                      f"{fmt_copy(o['copy_seconds'])} | "
                      f"{fmt(o['mb_per_s'], 1) if o['mb_per_s'] else '—'} | "
                      f"{fmt_ratio(o['ratio_raw_seq'])} | "
                      f"{fmt_ratio(o['ratio_raw_beside'])} | "
                      f"{fmt_ratio(o['ratio_dmsnap_merge'])} | "
                      + '; '.join(t['target'] for t in tg) + ' | '
                      + '; '.join(run_verdict(t) for t in tg) + ' |')
    if mem:
        md.append('')
        md.append('## Kernel memory per exception')
        md.append('')
        md.append('Transient stores on dm-zero (origin and store), every chunk '
                  'written once (cow: 1 MiB sequential writes; row and '
                  'dm-snapshot: 4 KiB random writes, as they fold runs of '
                  'consecutive chunks into one entry).  Bytes per '
                  'exception, from filling the snapshot: the exception '
                  'slab caches (cowsnap_*, or dm_exception and dm_snap_*), the '
                  'whole of Slab, and the drop of MemFree; fixed: MemFree '
                  'taken by creating the two views (index buckets and the '
                  'like; noisy).')
        md.append('')
        md.append('| configuration | exceptions | exception objects | '
                  'exception caches B | Slab B | MemFree B | fixed KiB |')
        md.append('|' + ' --- |' * 7)
        for m in mem:
            fixed = m['fixed_bytes_at_creation']
            md.append(f"| {m['config']} | {fmt(m['exceptions'])} | "
                      f"{fmt(m['exception_objects'])} | "
                      f"{fmt(m['cache_bytes_per_exception'], 1)} | "
                      f"{fmt(m['slab_bytes_per_exception'], 1)} | "
                      f"{fmt(m['memfree_bytes_per_exception'], 1)} | "
                      f"{fmt(None if fixed is None else fixed / 1024)} |")
    summary = {}
    for r in rows + ops:
        for t in r.get('targets', []):
            s = summary.setdefault(t['target'], {'met': 0, 'missed': 0,
                                                 'n/a': 0, 'split': 0})
            s['n/a' if t['met'] is None else
              ('met' if t['met'] else 'missed')] += 1
            if t['met'] is not None and 0 < t.get('runs_met', 0) < \
                    t.get('runs', 0):
                s['split'] += 1
    if summary:
        md.append('')
        md.append('## Targets (never asserted)')
        md.append('')
        md.append('| target | rows met | rows missed | n/a | rows whose '
                  'runs disagree |')
        md.append('|' + ' --- |' * 5)
        for t, s in summary.items():
            md.append(f"| {t} | {s['met']} | {s['missed']} | {s['n/a']} | "
                      f"{s['split']} |")
    if d['fail'] or d['na']:
        md.append('')
        md.append('## Not measured')
        md.append('')
        for cfg, why in d['na'].items():
            md.append(f'- {cfg}: n/a ({why})')
        seen = set()
        for cfg, what, _, why in d['fail']:
            if (cfg, what, why) in seen:
                continue
            seen.add((cfg, what, why))
            md.append(f'- {cfg} {what}: {why}')
    result = {'meta': meta, 'notes': d['notes'], 'rows': rows, 'ops': ops,
              'memory': mem, 'na': d['na'], 'targets': summary,
              'failures': [{'config': c, 'what': w, 'run': r, 'reason': y}
                           for c, w, r, y in d['fail']]}
    return '\n'.join(md) + '\n', result


def chart(result, outdir):
    """ratios.png: throughput over raw, a bar per configuration."""
    rows = [r for r in result['rows'] if r['config'] != 'raw']
    cfgs = []
    for r in rows:
        if r['config'] not in cfgs:
            cfgs.append(r['config'])
    if not cfgs:
        return None
    by = {(r['config'], r['workload']): r['ratio']['raw'] for r in rows}
    dat = os.path.join(outdir, 'ratios.dat')
    with open(dat, 'w') as f:
        f.write('workload ' + ' '.join(cfgs) + '\n')
        for wl, name in WORKLOADS:
            vals = [by.get((c, wl)) for c in cfgs]
            if all(v is None for v in vals):
                continue
            f.write(f'"{name}" ' + ' '.join(
                '?' if v is None else f'{v:.4f}' for v in vals) + '\n')
    gp = shutil.which('gnuplot')
    if not gp:
        print('bench: no gnuplot: no chart (make deps installs it)',
              file=sys.stderr)
        return None
    png = os.path.join(outdir, 'ratios.png')
    script = f'''
set terminal pngcairo size 1500,800 noenhanced
set output '{png}'
set datafile missing '?'
set title 'throughput / raw device (median of runs; TCG: compare within this run only)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel 'x raw'
set yrange [0:*]
set grid ytics
set xtics rotate by 30 right scale 0 offset 0,-0.5
set lmargin 20
set bmargin 11
set key outside top center horizontal
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 front
plot for [i=2:{len(cfgs) + 1}] '{dat}' using i:xtic(1) title columnheader(i)
'''
    p = subprocess.run([gp], input=script, text=True, capture_output=True)
    if p.returncode != 0:
        print(f'bench: gnuplot failed: {p.stderr.strip()}', file=sys.stderr)
        return None
    return png


def main(argv):
    args = [a for a in argv[1:] if not a.startswith('--')]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(args[0], errors='replace') as f:
        d = parse(f.readlines())
    if not d['fio'] and not d['na']:
        print(f'bench: no figures in {args[0]}', file=sys.stderr)
        return 1
    os.makedirs(args[1], exist_ok=True)
    md, result = report(d)
    with open(os.path.join(args[1], 'results.md'), 'w') as f:
        f.write(md)
    with open(os.path.join(args[1], 'results.json'), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write('\n')
    if '--no-chart' not in argv:
        chart(result, args[1])
    sys.stdout.write(md)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
