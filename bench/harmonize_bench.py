"""Benchmark: `mlperf-gptoss harmonize` against the official Python openai-harmony.

Generates a dataset of N rows with ~1,000-token questions (seeded, mixed over
the reference's dataset names), then, in one run and on the same cores:

* ours:   `mlperf-gptoss harmonize --num-processes W` (read, render, decode, write);
* python: the official `openai-harmony` wheel rendering the same conversations
          in a `multiprocessing.Pool(W)`, read and written with pandas, as the
          reference script does (conversations built from the same embedded
          builder data, so both sides render identical prompts — checked).

Usage: python3 bench/harmonize_bench.py [--rows 10000] [--workers 2] [--binary target/release/mlperf-gptoss]
Needs: pip install openai-harmony==0.0.8 pandas pyarrow
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = json.loads((ROOT / "crates/harmony/data/reference_prompts.json").read_text())
DATASETS = ["aime2025", "gpqa", "livecodebench", "math500", "mmlu_pro", "pubmed_summarization"]
WORDS = ("the of and a to in is that for it as with was on be by this are from at an which "
         "integer prime triangle probability enzyme photon quantum vector matrix function "
         "array string graph tree algorithm complexity theorem lemma proof polynomial "
         "Ω ∑ café naïve 東京 データ 42 3.14159 x^2 \\frac{1}{2} $n$").split()


def make_rows(n, seed=20251128):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        # ~470 words ≈ 1,000 o200k tokens with this word list.
        question = " ".join(rng.choice(WORDS) for _ in range(470))
        rows.append({"dataset": DATASETS[i % len(DATASETS)], "question": question})
    return rows


# --- the Python baseline (runs in pool workers) --------------------------------
_enc = None


def _init():
    global _enc
    import openai_harmony as oh
    _enc = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)


def _render(args):
    import openai_harmony as oh
    dataset, question, effort = args
    builder = PROMPTS["builders"][PROMPTS["dataset_to_builder"][dataset]]
    system = (oh.SystemContent.new()
              .with_reasoning_effort({"low": oh.ReasoningEffort.LOW, "medium": oh.ReasoningEffort.MEDIUM,
                                      "high": oh.ReasoningEffort.HIGH}[effort])
              .with_conversation_start_date(PROMPTS["system"]["conversation_start_date"])
              .with_required_channels(PROMPTS["system"]["valid_channels"]))
    messages = [
        oh.Message.from_role_and_content(oh.Role.SYSTEM, system),
        oh.Message.from_role_and_content(oh.Role.DEVELOPER,
                                         oh.DeveloperContent.new().with_instructions(builder["instructions"])),
    ]
    for shot in builder["few_shot"]:
        messages.append(oh.Message.from_role_and_content(oh.Role.USER, shot["user"]))
        messages.append(oh.Message.from_role_and_content(oh.Role.ASSISTANT, shot["assistant_final"])
                        .with_channel("final"))
    messages.append(oh.Message.from_role_and_content(oh.Role.USER, question))
    ids = _enc.render_conversation_for_completion(oh.Conversation.from_messages(messages), oh.Role.ASSISTANT)
    return ids, len(ids), _enc.decode_utf8(ids)


def python_harmonize(data_file, out_file, workers, effort):
    df = pd.read_json(data_file, lines=True)
    with mp.Pool(workers, initializer=_init) as pool:
        results = pool.map(_render, [(d, q, effort) for d, q in zip(df["dataset"], df["question"])],
                           chunksize=64)
    df["tok_input"] = [r[0] for r in results]
    df["tok_input_len"] = [r[1] for r in results]
    df["text_input"] = [r[2] for r in results]
    df.to_pickle(out_file)
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--effort", default="high")
    ap.add_argument("--binary", default=str(ROOT / "target/release/mlperf-gptoss"))
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="harmonize-bench-"))
    try:
        data = work / "input.jsonl"
        with data.open("w") as f:
            for row in make_rows(args.rows):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

        # Both sides start with the vocabulary file on disk, as on any run after
        # the first: an untimed warm-up run writes ours into its cache dir, and
        # the Python wheel reads a copy of the same file.
        cache = work / "cache"
        env = {**os.environ, "TIKTOKEN_RS_CACHE_DIR": str(cache)}
        warm = work / "warm.jsonl"
        warm.write_text(json.dumps({"dataset": "default", "question": "hi"}) + "\n")
        subprocess.run([args.binary, "harmonize", "--data-file", str(warm), "--output-file", str(work / "warm.pkl")],
                       check=True, env=env, stderr=subprocess.PIPE)
        t = time.perf_counter()
        subprocess.run([args.binary, "harmonize", "--data-file", str(data), "--output-file", str(work / "ours.pkl"),
                        "--num-processes", str(args.workers), "--reasoning-effort", args.effort],
                       check=True, env=env, stderr=subprocess.PIPE)
        ours_s = time.perf_counter() - t
        vocab = work / "vocab"
        vocab.mkdir()
        shutil.copy(next(cache.iterdir()), vocab / "o200k_base.tiktoken")
        os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(vocab)

        t = time.perf_counter()
        theirs = python_harmonize(data, work / "python.pkl", args.workers, args.effort)
        python_s = time.perf_counter() - t

        ours = pd.read_pickle(work / "ours.pkl")
        same = (list(map(list, ours["tok_input"])) == list(map(list, theirs["tok_input"]))
                and list(ours["text_input"]) == list(theirs["text_input"]))
        tokens = int(theirs["tok_input_len"].sum())
        print(f"rows={args.rows} workers={args.workers} effort={args.effort} prompt tokens={tokens} "
              f"(mean {tokens / args.rows:.0f}/row); identical output: {same}")
        print(f"{'':24}{'seconds':>10}{'rows/s':>12}{'tokens/s':>14}")
        for name, s in (("mlperf-gptoss harmonize", ours_s), ("python openai-harmony", python_s)):
            print(f"{name:24}{s:10.2f}{args.rows / s:12.0f}{tokens / s:14.0f}")
        print(f"speed-up: {python_s / ours_s:.2f}x")
        if not same:
            raise SystemExit("outputs differ: the benchmark compares different work")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
