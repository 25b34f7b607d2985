#!/usr/bin/env python3
"""Compares Porcupine's go-test benchmark output with `dsim bench check --json`, per file.

    compare.py WORK_DIR

Reads WORK_DIR/porcupine-*.txt (one per round: `go test -bench` output) and
WORK_DIR/dsim-*.json (one per round and corpus: `dsim bench check --json`), takes the median
of each file's figures over the rounds, and prints per family (Porcupine's etcd logs, its kv
histories, Knossos's cas-register histories) the sums, their ratio, the slowest file and the
file with the smallest ratio (with the explanation and deciding alone, each its own file) and
the number of files below 10× deciding alone, as a Markdown table; then writes WORK_DIR/per-file.tsv.

Neither side's figure includes parsing. Porcupine's benchmarks time `CheckEvents` (a yes or no),
so dsim's `decide_ms` is the like-for-like figure; dsim's `median_ms` adds the explanation of a
violation, which Porcupine does not compute.
"""
import glob
import json
import os
import re
import statistics
import sys

GO_LINE = re.compile(r'^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op')


def porcupine_name(bench):
    """(family, file name) of a Porcupine benchmark, or None."""
    m = re.fullmatch(r'EtcdJepsen(\d+)', bench)
    if m:
        return 'etcd', 'etcd_%s.log' % m.group(1)
    m = re.fullmatch(r'Kv(\d+)Clients?(Ok|Bad)', bench)
    if m:
        return 'kv', 'c%02d-%s.txt' % (int(m.group(1)), m.group(2).lower())
    m = re.fullmatch(r'DsimKnossos/(.+)', bench)
    if m:
        return 'knossos', m.group(1)
    return None


def dsim_name(path):
    parts = path.split('/')
    if 'knossos' in parts or 'cas-register' in parts:
        return 'knossos', os.path.splitext(parts[-1])[0]
    if 'kv' in parts:
        return 'kv', parts[-1]
    return 'etcd', parts[-1]


def main():
    work = sys.argv[1]
    porc, dsim, decide, verdicts, bad = {}, {}, {}, {}, []
    for path in sorted(glob.glob(os.path.join(work, 'porcupine-*.txt'))):
        for line in open(path):
            m = GO_LINE.match(line)
            if m and porcupine_name(m.group(1)):
                porc.setdefault(porcupine_name(m.group(1)), []).append(float(m.group(2)) / 1e6)
    for path in sorted(glob.glob(os.path.join(work, 'dsim-*.json'))):
        for line in open(path):
            d = json.loads(line)
            if 'file' not in d:
                continue
            key = dsim_name(d['file'])
            if d['verdict'] == 'bad-input':
                if key not in bad:
                    bad.append(key)
                continue
            dsim.setdefault(key, []).append(d['median_ms'])
            decide.setdefault(key, []).append(d['decide_ms'])
            verdicts[key] = (d['verdict'], d.get('expected'))
    rows = []
    for key in sorted(set(porc) & set(dsim)):
        p, e, c = (statistics.median(x[key]) for x in (porc, dsim, decide))
        rows.append((key[0], key[1], p, e, c))
    missing = sorted((set(porc) ^ set(dsim)) - set(bad))
    with open(os.path.join(work, 'per-file.tsv'), 'w') as f:
        f.write('family\tfile\tporcupine_ms\tdsim_ms\tdsim_decide_ms\tratio\tdecide_ratio\n')
        for fam, name, p, e, c in rows:
            f.write('%s\t%s\t%.4f\t%.4f\t%.4f\t%.1f\t%.1f\n' % (fam, name, p, e, c, p / e, p / c))
    print('| family | files | Porcupine (sum) | dsim (sum) | ratio | dsim, decision only | ratio '
          '| slowest file for dsim (ratio) | smallest ratio | smallest ratio, decision only '
          '| files below 10×, decision only |')
    # Columns: dsim (sum) = with the explanation of a violation; decision only = like for like.
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for fam in ('etcd', 'kv', 'knossos'):
        r = [x for x in rows if x[0] == fam]
        if not r:
            continue
        ps, es, cs = (sum(x[i] for x in r) for i in (2, 3, 4))
        slow = max(r, key=lambda x: x[3])
        worst = min(r, key=lambda x: x[2] / x[3])
        worst_c = min(r, key=lambda x: x[2] / x[4])
        below = sum(1 for x in r if x[2] / x[4] < 10)
        print('| %s | %d | %.2f ms | %.2f ms | %.1f× | %.2f ms | %.1f× | `%s` %.3f ms (%.1f×) '
              '| `%s` %.1f× | `%s` %.1f× | %d |' % (
                  fam, len(r), ps, es, ps / es, cs, ps / cs, slow[1], slow[3], slow[2] / slow[3],
                  worst[1], worst[2] / worst[3], worst_c[1], worst_c[2] / worst_c[4], below))
    mismatches = [k for k, (v, e) in verdicts.items() if e is not None and e != v]
    print()
    print('verdict mismatches with the expected verdicts: %d%s' % (
        len(mismatches), ''.join(' %s/%s' % k for k in mismatches)))
    print('unreadable files (reported and skipped by dsim): %s' % (
        ', '.join('%s/%s' % k for k in bad) or 'none'))
    if missing:
        print('measured by only one checker: %s' % ', '.join('%s/%s' % k for k in missing))


if __name__ == '__main__':
    main()
