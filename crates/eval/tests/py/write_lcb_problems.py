"""Write LiveCodeBench problems in the code_generation_lite jsonl format.

Usage: write_lcb_problems.py OUT.jsonl < SPEC.json

SPEC is a JSON list of {"question_id", "func_name" (or null), "public": [[input,
output], ...], "private": [[input, output], ...], "encode": bool}. With
"encode", private_test_cases is stored as the real dataset stores it:
base64(zlib(pickle(json))); otherwise as plain JSON. The other fields are
filled the way the dataset fills them.
"""
import base64
import json
import pickle
import sys
import zlib

out = open(sys.argv[1], "w")
for p in json.load(sys.stdin):
    kind = "functional" if p.get("func_name") else "stdin"

    def tests(pairs):
        return json.dumps([{"input": i, "output": o, "testtype": kind} for i, o in pairs])

    private = tests(p["private"])
    if p.get("encode"):
        private = base64.b64encode(zlib.compress(pickle.dumps(private))).decode()
    metadata = {"func_name": p["func_name"]} if p.get("func_name") else {}
    row = {
        "question_title": "Problem " + p["question_id"],
        "question_content": "Synthetic problem for tests.",
        "platform": "leetcode" if p.get("func_name") else "atcoder",
        "question_id": p["question_id"],
        "contest_id": "test",
        "contest_date": "2025-01-01T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": tests(p["public"]),
        "private_test_cases": private,
        "metadata": json.dumps(metadata),
    }
    out.write(json.dumps(row) + "\n")
