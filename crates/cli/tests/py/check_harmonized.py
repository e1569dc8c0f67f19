"""Read mlperf-gptoss harmonize outputs with real pandas/pyarrow and compare with the reference's result.

Usage: check_harmonized.py EXPECTED.json DIR  (DIR holds out.pkl, out.parquet, out.jsonl)
"""
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

expected = json.loads(Path(sys.argv[1]).read_text())
out = Path(sys.argv[2])
rows = expected["rows"]
columns = expected["output_columns"] + ["input_tokens", "num_tokens"]

frames = {
    "pkl": pd.read_pickle(out / "out.pkl"),
    "parquet": pq.read_table(out / "out.parquet").to_pandas(),
    "jsonl": pd.read_json(out / "out.jsonl", lines=True),
}
for name, df in frames.items():
    assert isinstance(df, pd.DataFrame), name
    assert list(df.columns) == columns, (name, list(df.columns))
    assert len(df) == len(rows), (name, len(df))
    for i, row in enumerate(rows):
        for col in ("tok_input", "input_tokens"):
            got = [int(x) for x in df[col].iloc[i]]
            assert got == row["tok_input"], (name, i, col)
        for col in ("tok_input_len", "num_tokens"):
            assert int(df[col].iloc[i]) == row["tok_input_len"], (name, i, col)
        assert df["text_input"].iloc[i] == row["text_input"], (name, i)
        assert df["question"].iloc[i] == row["question"], (name, i)
print(f"checked {len(frames)} files")
