"""Pickles plain Python values with CPython's own pickle, in every protocol 0-5, and
prints one JSON line per pickle: {"protocol", "case", "hex", "value"}.

Usage: python3 plain_pickles.py

Pickles that need an opcode the reader refuses by design (protocol 0's text LONG,
STRING and UNICODE) or a global (sets before protocol 4) are left out; the line says
which opcodes each kept pickle uses, so the test can check that every opcode of a
plain value is covered.
"""
import json
import pickle
import pickletools

shared = [1, 2]
CASES = {
    "none_and_bools": [None, True, False],
    "small_ints": [0, 1, -1, 255, 256, 65535, 65536, -65536],
    "int32_edges": [2**31 - 1, -(2**31)],
    "int64_edges": [2**63 - 1, -(2**63), 2**40],
    "floats": [1.5, -0.0, 1e300, 0.1, -1e-300, 3.0],
    "strings": ["", "a", "héllo ✓", "日本\u200b", "x" * 300],
    "empty_containers": [[], (), {}],
    "tuples": [(1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ("a", (None, 2.5))],
    "int_list": [1, 2, 3, -4],
    "long_list": list(range(2500)),
    "dict": {"b": [1.5, "x"], "a": {"nested": True}, "c": None},
    "int_keys": {1: "one", -2: "minus two"},
    "big_dict": {f"k{i}": i for i in range(1500)},
    "shared_refs": [shared, shared, (shared, 3)],
    "shared_refs_in_dict": {"again": shared, "and": shared},
    "set": {3, 1, 2},
    "frozenset": frozenset({"x"}),
}


def to_json(v):
    if isinstance(v, (set, frozenset, tuple, list)):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    return v


REFUSED = {"LONG", "STRING", "UNICODE", "GLOBAL", "STACK_GLOBAL"}

for protocol in range(0, 6):
    for name, value in CASES.items():
        data = pickle.dumps(value, protocol=protocol)
        ops = sorted({op.name for op, _, _ in pickletools.genops(data)})
        if REFUSED & set(ops):
            continue
        print(json.dumps({"protocol": protocol, "case": name, "hex": data.hex(),
                          "value": to_json(value), "opcodes": ops}))
