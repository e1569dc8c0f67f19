"""Checks the SGLang transcripts, and optionally a running `serve`, with
SGLang's own JSON contract decoder (`sglang/api/v1/api_types.py`, which its
HTTP server runs on every /generate body). Needs the unpacked wheel and
msgspec; run by hand, not in CI:

    pip download --no-deps sglang==0.5.23 -d target/pkgs
    unzip -q -o target/pkgs/sglang-0.5.23-*.whl 'sglang/api/*' -d target/pkgs/sg
    pip install msgspec
    python3 crates/backend/tests/data/transcripts/check_sglang_contract.py \
        target/pkgs/sg [http://127.0.0.1:30000]
"""

import glob
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, sys.argv[1])
from sglang.api.v1.api_types import (  # noqa: E402
    GenerateRequest,
    GenerateResponse,
    GenerateStreamError,
)


def check_reply(item):
    if "error" in item:
        GenerateStreamError.from_json_value(item)
    else:
        GenerateResponse.from_json_value(item)


def check_transcripts():
    here = os.path.dirname(os.path.abspath(__file__))
    n = 0
    for path in sorted(glob.glob(os.path.join(here, "sglang_*.json"))):
        t = json.load(open(path))
        GenerateRequest.from_json_value(t["request"])
        reply = t["reply"]
        if reply["status"] != 200:
            continue
        items = [reply["json"]] if "json" in reply else reply["sse"]
        for item in items:
            if item != "[DONE]":
                check_reply(item)
                n += 1
    print(f"transcripts: {n} replies and chunks decode")


def check_serve(url):
    here = os.path.dirname(os.path.abspath(__file__))
    n = 0
    for name in ["sglang_plain_stop.json", "sglang_stream_incremental.json"]:
        body = json.load(open(os.path.join(here, name)))["request"]
        req = urllib.request.Request(
            url + "/generate", json.dumps(body).encode(), {"content-type": "application/json"}
        )
        text = urllib.request.urlopen(req).read().decode()
        if body["stream"]:
            items = [
                json.loads(e[len("data: "):])
                for e in text.split("\n\n")
                if e.startswith("data: ") and e != "data: [DONE]"
            ]
        else:
            items = [json.loads(text)]
        for item in items:
            check_reply(item)
            n += 1
    print(f"serve: {n} replies and chunks decode")


check_transcripts()
if len(sys.argv) > 2:
    check_serve(sys.argv[2])
