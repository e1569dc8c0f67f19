"""Loads data frames with real pandas/pyarrow and prints them as canonical JSON.

Usage: python3 describe_frames.py FILE...
For each file: {"columns": [...], "dtypes": {...}, "index": "RangeIndex(...)", "rows": [[...]]}.
Cells: None -> null, float NaN -> {"nan": true}, numpy scalars/arrays -> Python values,
and ints/floats keep their Python type ({"float": x} for floats, so 1.0 != 1).
"""
import json
import math
import sys

import numpy as np
import pandas as pd


def cell(v):
    if v is None:
        return None
    if isinstance(v, (np.ndarray, list, tuple)):
        return [cell(x) for x in list(v)]
    if isinstance(v, dict):
        return {str(k): cell(x) for k, x in v.items()}
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return {"nan": True} if math.isnan(f) else {"float": f}
    if isinstance(v, str):
        return v
    if v is pd.NA:
        return None
    return {"unknown": repr(v)}


def load(path):
    if path.endswith(".pkl"):
        return pd.read_pickle(path)
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith(".jsonl"):
        return pd.read_json(path, lines=True, dtype=False)
    raise SystemExit(f"unknown extension: {path}")


out = {}
for path in sys.argv[1:]:
    df = load(path)
    out[path] = {
        "columns": [str(c) for c in df.columns],
        "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
        "index": repr(df.index),
        "rows": [[cell(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }
print(json.dumps(out, ensure_ascii=False))
