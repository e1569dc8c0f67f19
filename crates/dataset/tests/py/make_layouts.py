"""Writes DataFrame pickles with the block layouts pandas produces for mixed dtypes, with the
installed pandas/numpy/pyarrow, so the Rust reader is checked against real `to_pickle` output.

Usage: python3 make_layouts.py OUT_DIR   (prints the written paths, one per line)
"""
import os
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
frames = {}

# Consolidated multi-column blocks whose placements interleave.
frames["interleaved"] = pd.DataFrame(
    {
        "a": [1, 2, 3],
        "s": pd.Series(["x", "y", "z"], dtype=object),
        "b": [-4, 5, 6],
        "f": [0.5, np.nan, -0.0],
        "o": pd.Series([1, "x", None], dtype=object),
        "g": [1.5, 2.5, 1e300],
        "flag": [True, False, True],
        "i32": np.array([7, -8, 9], dtype=np.int32),
        "u8": np.array([0, 255, 3], dtype=np.uint8),
        "f32": np.array([0.25, 1.0, -2.5], dtype=np.float32),
    }
)
# One 2-D block from a C-ordered matrix: the block is its transpose, pickled with order 'F'.
frames["matrix"] = pd.DataFrame(np.arange(12.0).reshape(3, 4), columns=list("abcd"), copy=False)
# The same from a Fortran-ordered matrix: the block is C-ordered.
frames["fortran"] = pd.DataFrame(np.asfortranarray(np.arange(12).reshape(3, 4)), columns=list("abcd"))
# Text with missing values (Arrow validity bitmap under pandas 3) and cells that are numpy.
frames["text_nulls"] = pd.DataFrame(
    {
        "t": ["a", None, "ccc", ""],
        "cells": pd.Series([np.int64(5), np.array([1, 2, 3]), [4, 5], {"k": "v"}], dtype=object),
    }
)
# A row slice: the row index no longer starts at 0 and Arrow arrays may carry an offset.
big = pd.DataFrame({"t": [f"row{i}" for i in range(10)], "n": range(10)})
frames["sliced"] = big.iloc[3:7]
# A non-range row index (labels are dropped by the reader, order kept).
frames["labelled"] = pd.DataFrame({"v": ["p", "q"]}, index=[10, 20])
# Two chunks of text concatenated.
frames["concat"] = pd.concat([big.iloc[:2], big.iloc[5:6]], ignore_index=True)

for name, df in frames.items():
    path = os.path.join(out, f"{name}.pkl")
    df.to_pickle(path)
    print(path)
