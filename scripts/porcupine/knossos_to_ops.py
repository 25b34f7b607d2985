#!/usr/bin/env python3
"""Turns Knossos cas-register histories (EDN) into operation lists for Porcupine's benchmark.

    knossos_to_ops.py KNOSSOS_DIR OUT_DIR

For every `*.edn` file listed in KNOSSOS_DIR's VERDICTS (paths relative to it), writes
OUT_DIR/NAME.ops: a first line `expect linearizable|not-linearizable`, then one operation per
line, `call return f a b output`, where times are event positions, `f` is read/write/cas, `a b`
the written value or the compare-and-set's `[a b]`, and `output` a read's value (`any` for
Knossos's nil read, `unknown` for an operation that did not complete: `:info`, or still open at
the end, whose return is then the end of the history). `:fail` operations did not happen and
are left out; nemesis events (a keyword process) are skipped. These are the semantics dsim
checks Knossos's files with (`--initial 0`), and the ones Knossos's own suite uses.
"""
import os
import re
import sys

TOKEN = re.compile(r'\s+|,|;[^\n]*|"(?:\\.|[^"\\])*"|#\{|[\[\]{}()]|[^\s,\[\]{}()";]+')


def parse(text):
    """A minimal EDN reader: vectors/lists become lists, maps dicts, the rest raw strings."""
    stack = [[]]
    kinds = []
    for m in TOKEN.finditer(text):
        t = m.group(0)
        if t.isspace() or t == ',' or t.startswith(';'):
            continue
        if t in ('[', '(', '{', '#{'):
            stack.append([])
            kinds.append(t)
        elif t in (']', ')', '}'):
            items = stack.pop()
            kind = kinds.pop()
            if kind == '{':
                items = dict(zip(items[0::2], items[1::2]))
            stack[-1].append(items)
        else:
            stack[-1].append(t)
    assert not kinds, 'unbalanced EDN'
    return stack[0]


def convert(path):
    top = parse(open(path).read())
    events = top[0] if len(top) == 1 and isinstance(top[0], list) else top
    open_ops = {}
    ops = []
    events = [e for e in events if isinstance(e, dict) and re.fullmatch(r'-?\d+', str(e.get(':process')))]
    end = len(events) + 1
    for t, e in enumerate(events):
        p, kind, f, v = e[':process'], e[':type'], e[':f'][1:], e.get(':value', 'nil')
        if kind == ':invoke':
            open_ops[p] = (t, f, v)
            continue
        call, f, v_in = open_ops.pop(p)
        if kind == ':fail':
            continue
        if f == 'read':
            a = b = 0
            out = 'unknown' if kind == ':info' else ('any' if v == 'nil' else v)
        elif f == 'write':
            a, b, out = v_in, 0, 'unknown' if kind == ':info' else '-'
        else:
            a, b = v_in
            out = 'unknown' if kind == ':info' else '-'
        ret = end if kind == ':info' else t
        ops.append((call, ret, f, a, b, out))
    for p, (call, f, v_in) in open_ops.items():
        a, b = (v_in if f == 'cas' else (v_in if f == 'write' else 0, 0))
        ops.append((call, end, f, a, b, 'unknown'))
    return sorted(ops)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for line in open(os.path.join(src, 'VERDICTS')):
        fields = line.split()
        if len(fields) != 2:
            continue
        name = os.path.splitext(os.path.basename(fields[0]))[0]
        with open(os.path.join(out, name + '.ops'), 'w') as f:
            f.write('expect %s\n' % fields[1])
            for op in convert(os.path.join(src, fields[0])):
                f.write('%d %d %s %s %s %s\n' % op)


if __name__ == '__main__':
    main()
