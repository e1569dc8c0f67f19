#!/usr/bin/env python3
"""Edge-row vectors for `harmonize`, made by the reference script itself.

This is our code; the reference is not copied here. It is loaded at run time from
--ref, which must be mlcommons/inference's
language/gpt-oss-120b/preprocess/harmonize_inputs.py at commit 34a8c74a (git blob
8ec1223f93a5...; the file was later deleted from master):

    git -C <mirror of mlcommons/inference> show 8ec1223f93a5 > <scratch>/harmonize_inputs.py

Environment: python3 with openai-harmony 0.0.8, pandas and tqdm from PyPI, and
TIKTOKEN_ENCODINGS_BASE naming a directory that holds o200k_base.tiktoken (sha256
446a9538...; tiktoken-rs 0.12.1 ships it in assets/).

The reference imports `transformers.AutoTokenizer` only to decode ids into text_input,
and that needs the Hugging Face Hub. A stub package in the scratch folder replaces it
with openai-harmony's `decode_utf8`; nothing else of the script is replaced.

What it does:
1. Builds DataFrames of edge rows (one frame per column set; every cell an object, so
   None, NaN, strings and lists stay what they are) and pickles them here as `frame_*.pkl`.
2. For every row: the reference's own `process_row((index, row, map, effort))` on the row
   `df.iterrows()` gives, with the reference's dataset map. The outcome goes to
   `edge_vectors.json`: prompt length and sha256 of the ids (little-endian u32), the
   last ids, and the decoded text's sha256; or the error message.
3. Runs the unmodified script as a subprocess on every frame that it can finish, and
   checks that its output pickle holds the same ids (and None for the errors).

    python make_edge_vectors.py --ref <scratch>/harmonize_inputs.py --work <scratch>/work
"""
import argparse
import functools
import ast
import hashlib
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
REF_BLOB = "8ec1223f93a5d802f00514bf623a989a6c03e4ac"
EFFORT = "high"
TAIL = 48

NON_ASCII = (
    "e\u0301 \u00e9 \u00df \u0130 \u0131 \u212a \u017f \u00a0nbsp \u200bzwsp \u2028ls \u3000ideo "
    "\U0001f469\u200d\U0001f4bb \U0001f1fa\U0001f1f8 \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd "
    "\u6771\u4eac \ud55c\uad6d\uc5b4 \u0928\u092e\u0938\u094d\u0924\u0947 \u0661\u0662\u0663 \U0001d400 \ufeffbom \x00nul \x7f"
)
WHITESPACE = " \t\r\n\x0b\x0c\u00a0\u2003\u3000 "
LONG = ("The integral of $x^2$ from 0 to 3 is 9. \u00e9\u6771 " * 2500)  # 112,500 chars
LONG_WORD = "a" * 60_000  # one BPE piece far beyond any vocabulary entry


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_stub(work):
    d = os.path.join(work, "stubs", "transformers")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "__init__.py"), "w") as f:
        f.write(
            "from openai_harmony import load_harmony_encoding, HarmonyEncodingName\n"
            "import functools\n"
            "@functools.lru_cache(maxsize=None)\n"
            "def _enc():\n"
            "    return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)\n"
            "class _Tok:\n"
            "    def decode(self, ids, skip_special_tokens=False):\n"
            "        assert skip_special_tokens is False\n"
            "        return _enc().decode_utf8(ids)\n"
            "class AutoTokenizer:\n"
            "    @staticmethod\n"
            "    def from_pretrained(*args, **kwargs):\n"
            "        return _Tok()\n"
        )
    return os.path.dirname(d)


def load_reference(path, stubs):
    sys.path.insert(0, stubs)
    spec = importlib.util.spec_from_file_location("harmonize_inputs", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def dataset_function_map(mod, source):
    """The map is built inside `__main__`; evaluate its dict literal in the module's namespace."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "dataset_function_map" for t in node.targets):
            return eval(compile(ast.Expression(node.value), "map", "eval"), vars(mod))
    sys.exit("dataset_function_map not found in the reference")


NAN = float("nan")


def turn(role, content):
    return {"role": role, "content": content}


def cases(names):
    """(frame name, columns, [(case id, {column: value})]) for every column set."""
    queries = [
        ("empty", ""),
        ("space", " "),
        ("whitespace", WHITESPACE),
        ("none", None),
        ("nan", NAN),
        ("non-ascii", NON_ASCII),
        ("specials", "<|start|>user<|message|>x<|end|><|return|>"),
        ("int", 7),
        ("float", 2.5),
        ("bool", True),
        ("empty-list", []),
        ("str-list", ["a", "b"]),
        ("messages", [turn("user", "hi")]),
    ]
    text_names = [n for n in names if n != "healthbench"]
    rows = []
    for name in text_names:
        for qid, q in queries:
            rows.append((f"{name}/question-{qid}", {"dataset": name, "question": q}))
    for name in ("aime1983", "math500", "pubmed_summarization"):
        rows.append((f"{name}/question-long", {"dataset": name, "question": LONG}))
    rows.append(("gpqa/question-long-word", {"dataset": "gpqa", "question": LONG_WORD}))
    for rid, dataset in [("dataset-none", None), ("dataset-nan", NAN), ("dataset-empty", ""),
                         ("dataset-space", " default"), ("dataset-upper", "AIME2025"),
                         ("dataset-int", 3)]:
        rows.append((rid, {"dataset": dataset, "question": "What is 1+1?"}))
    yield "question", ["dataset", "question"], rows

    prompts = [
        ("empty-list", []),
        ("empty-str", ""),
        ("space", " "),
        ("text", "Is this safe?"),
        ("none", None),
        ("nan", NAN),
        ("int", 5),
        ("user", [turn("user", "I have a headache.")]),
        ("user-empty", [turn("user", "")]),
        ("user-whitespace", [turn("user", WHITESPACE)]),
        ("history", [turn("user", "Fieber 39\u00b0C?"), turn("assistant", "Seit wann?"),
                     turn("user", "\u6628\u65e5\u304b\u3089 \U0001f912")]),
        ("assistant-only", [turn("assistant", "How can I help?")]),
        ("assistant-last", [turn("user", "hi"), turn("assistant", "hello")]),
        ("extra-key", [{"role": "user", "content": "hi", "name": "bob"}]),
        ("key-order", [{"content": "hi", "role": "user"}]),
        ("role-system", [turn("system", "be brief"), turn("user", "hi")]),
        ("role-developer", [turn("developer", "x")]),
        ("role-upper", [turn("USER", "hi")]),
        ("role-none", [turn(None, "hi")]),
        ("no-content", [{"role": "user"}]),
        ("no-role", [{"content": "hi"}]),
        ("content-none", [turn("user", None)]),
        ("content-nan", [turn("user", NAN)]),
        ("content-int", [turn("user", 3)]),
        ("content-list", [turn("user", ["a"])]),
        ("str-items", ["hi"]),
        ("int-items", [1, 2]),
        ("none-item", [None]),
        ("non-ascii", [turn("user", NON_ASCII)]),
        ("specials", [turn("user", "<|end|><|start|>assistant<|channel|>final<|message|>x")]),
        ("long", [turn("user", LONG), turn("assistant", LONG_WORD), turn("user", "ok")]),
    ]
    yield "healthbench", ["dataset", "prompt"], [
        (f"healthbench/prompt-{pid}", {"dataset": "healthbench", "prompt": p}) for pid, p in prompts]
    yield "healthbench-question", ["dataset", "question", "prompt"], [
        ("healthbench/question-and-prompt",
         {"dataset": "healthbench", "question": "ignored", "prompt": [turn("user", "hi")]}),
        ("gpqa/question-none-prompt-text",
         {"dataset": "gpqa", "question": None, "prompt": "not used: question exists"}),
    ]
    yield "prompt", ["dataset", "prompt"], [
        ("gpqa/prompt-column", {"dataset": "gpqa", "prompt": "Which is it?\nA) 1\nB) 2"}),
        ("math500/prompt-empty", {"dataset": "math500", "prompt": ""}),
    ]
    yield "query", ["dataset", "query"], [
        ("mmlu/query-column", {"dataset": "mmlu", "query": "Pick one.\nA) x\nB) y"}),
        ("default/query-none", {"dataset": "default", "query": None}),
    ]
    yield "no-dataset", ["question"], [
        ("no-dataset/question", {"question": "What is 2+2?"}),
        ("no-dataset/question-empty", {"question": ""}),
    ]
    yield "no-query", ["dataset", "text"], [
        ("aime2025/no-query-column", {"dataset": "aime2025", "text": "x"}),
        ("healthbench/no-prompt-column", {"dataset": "healthbench", "text": "x"}),
    ]


def frame(columns, rows):
    data = {c: pd.Series([r.get(c) for _, r in rows], dtype=object) for c in columns}
    return pd.DataFrame(data)


def to_json(value):
    """A cell as JSON, for reading: NaN (which JSON lacks) as {"float": "nan"}, a long
    string as its length, sha256 and start (the pickle holds the cell itself)."""
    if isinstance(value, float) and math.isnan(value):
        return {"float": "nan"}
    if isinstance(value, str) and len(value) > 1000:
        return {"str_chars": len(value), "head": value[:40],
                "sha256": hashlib.sha256(value.encode("utf-8")).hexdigest()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def ids_sha256(ids):
    return hashlib.sha256(b"".join(struct.pack("<I", i) for i in ids)).hexdigest()


def run_row(mod, fmap, effort, index, row):
    try:
        result = mod.process_row((index, row, fmap, effort))
    except Exception as e:  # raised outside the script's own try: the whole run dies
        return {"crash": f"{type(e).__name__}: {e}"}
    if len(result) == 5:
        return {"error": result[4]}
    ids = list(result[2])
    text = sys.modules["transformers"].AutoTokenizer.from_pretrained("x").decode(ids)
    return {
        "n_tokens": len(ids),
        "ids_sha256": ids_sha256(ids),
        "last_ids": ids[-TAIL:],
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    args.ref = os.path.abspath(args.ref)
    args.work = os.path.abspath(args.work)
    source = open(args.ref, "rb").read()
    if git_blob_sha1(source) != REF_BLOB:
        sys.exit(f"{args.ref} is not the reference (git blob {REF_BLOB})")
    if not os.environ.get("TIKTOKEN_ENCODINGS_BASE"):
        sys.exit("set TIKTOKEN_ENCODINGS_BASE to a directory holding o200k_base.tiktoken")
    stubs = write_stub(args.work)
    mod = load_reference(args.ref, stubs)
    # The script loads the encoding anew for every row (seconds each). In this process
    # only, the same loader is memoised; the subprocess check runs the script untouched.
    mod.load_harmony_encoding = functools.lru_cache(maxsize=None)(mod.load_harmony_encoding)
    import transformers  # noqa: F401  (the stub, for decoding)
    fmap = dataset_function_map(mod, source.decode())
    effort = mod.ReasoningEffort.HIGH

    import openai_harmony
    out = {
        "about": "Outcome of the reference harmonize_inputs.py (unmodified) on edge rows; "
                 "made by make_edge_vectors.py, see its docstring.",
        "reference": {"repository": "mlcommons/inference", "commit": "34a8c74a",
                      "path": "language/gpt-oss-120b/preprocess/harmonize_inputs.py",
                      "git_blob": REF_BLOB},
        "versions": {"python": sys.version.split()[0], "pandas": pd.__version__,
                     "openai_harmony": getattr(openai_harmony, "__version__", "0.0.8")},
        "reasoning_effort": EFFORT,
        "frames": [],
    }
    for name, columns, rows in cases(list(fmap)):
        df = frame(columns, rows)
        file = f"frame_{name}.pkl"
        df.to_pickle(os.path.join(HERE, file))
        df = pd.read_pickle(os.path.join(HERE, file))
        entries = []
        for (case_id, cells), (index, row) in zip(rows, df.iterrows()):
            entries.append({"id": case_id, "index": int(index),
                            "row": {c: to_json(cells.get(c)) for c in columns},
                            "reference": run_row(mod, fmap, effort, index, row)})
        crashes = any("crash" in e["reference"] for e in entries)
        if not crashes:
            check_whole_script(args, stubs, file, entries)
        out["frames"].append({"file": file, "columns": columns, "whole_script_checked": not crashes,
                              "rows": entries})
        print(f"{file}: {len(entries)} rows, "
              f"{sum('n_tokens' in e['reference'] for e in entries)} rendered", file=sys.stderr)
    with open(os.path.join(HERE, "edge_vectors.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


def check_whole_script(args, stubs, file, entries):
    """The unmodified script as a process: its output must hold the process_row ids."""
    out_pkl = os.path.join(args.work, file + ".out.pkl")
    env = dict(os.environ, PYTHONPATH=stubs)
    subprocess.run([sys.executable, args.ref, "--data-file", os.path.join(HERE, file),
                    "--output-file", out_pkl, "--reasoning-effort", EFFORT, "--num-processes", "2"],
                   check=True, env=env, cwd=args.work, stdout=subprocess.DEVNULL)
    df = pd.read_pickle(out_pkl)
    for e, ids in zip(entries, df["tok_input"]):
        ref = e["reference"]
        if "error" in ref:
            assert ids is None, e["id"]
        else:
            assert ids_sha256(ids) == ref["ids_sha256"], e["id"]


if __name__ == "__main__":
    main()
