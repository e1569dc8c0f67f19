"""What CPython itself answers, for the Rust reimplementations to be compared with.

Reads one JSON request on stdin and writes one JSON answer on stdout, so that a
whole batch costs one python3 process:

  {"re": [[python, flags, call, subject], ...],   call: "match" | "search" | "last" | "sub:<repl>"
   "strip": [text, ...],
   "fromhex": [text, ...]}

  -> {"re": [null | [start, group] | replaced, ...],
      "strip": [text.strip(), ...],
      "fromhex": [[hex of the bytes, null] | [null, ValueError message], ...]}
"""
import json
import re
import sys


def flags_of(text):
    value = 0
    for name in filter(None, (part.strip() for part in text.split("|"))):
        value |= getattr(re, name.removeprefix("re."))
    return value


def apply(python, flags, call, subject):
    pattern = re.compile(python, flags_of(flags))
    if call.startswith("sub:"):
        return pattern.sub(call[4:], subject)
    if call == "match":
        m = pattern.match(subject)
    elif call == "search":
        m = pattern.search(subject)
    elif call == "last":
        m = None
        for m in pattern.finditer(subject):
            pass
    else:
        raise ValueError(f"unknown call {call!r}")
    return None if m is None else [m.start(1), m.group(1)]


def fromhex(text):
    try:
        return [bytes.fromhex(text).hex(), None]
    except ValueError as e:
        return [None, str(e)]


request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
json.dump(
    {
        "re": [apply(*item) for item in request.get("re", [])],
        "strip": [text.strip() for text in request.get("strip", [])],
        "fromhex": [fromhex(text) for text in request.get("fromhex", [])],
    },
    sys.stdout,
)
