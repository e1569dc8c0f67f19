#!/usr/bin/env python3
"""Regenerates pychars.txt: the character classes of Python's `re` for str patterns.

Run with the Python whose `re` you want to match: `python3 gen_pychars.py > pychars.txt`.
Lines: `# comment`, or `<class> <first hex> <last hex>` with class
`word` (str.isalnum() or '_': `\\w` and `\\b`), `digit` (str.isdecimal(): `\\d`, each
range a run of values 0..9) or `space` (str.isspace(): `\\s` and str.strip()).
"""
import sys
import unicodedata


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000):
        ok = pred(chr(cp))
        if ok and start is None:
            start = cp
        if not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return out


def digit_runs():
    # Split decimal ranges into runs that start at value 0 so a value is (cp - first).
    out = []
    for a, b in ranges(str.isdecimal):
        cp = a
        while cp <= b:
            assert unicodedata.decimal(chr(cp)) == 0, hex(cp)
            end = cp
            while end + 1 <= b and unicodedata.decimal(chr(end + 1)) == unicodedata.decimal(chr(end)) + 1:
                end += 1
            out.append((cp, end))
            cp = end + 1
    return out


print(f"# Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version}")
for name, rs in (("word", ranges(lambda c: c.isalnum() or c == "_")),
                 ("digit", digit_runs()),
                 ("space", ranges(str.isspace))):
    for a, b in rs:
        print(f"{name} {a:x} {b:x}")
