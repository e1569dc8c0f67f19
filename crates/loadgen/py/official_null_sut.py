#!/usr/bin/env python3
"""Drive the official LoadGen (pip: mlcommons-loadgen==6.0.17) with a null SUT.

Reads a JSON list of cases on stdin and prints one JSON result per case on
stdout (a JSON list). Each case:
  {"outdir": str, "total": int, "perf": int, "scenario": "Server"|"Offline"|...,
   "mode": "PerformanceOnly"|"AccuracyOnly"|"SubmissionRun",
   "model": str (optional; with "user_conf" calls FromConfig(user_conf, model, scenario)),
   "user_conf": path (optional), "audit_config": path (optional),
   "fields": {TestSettings field (Rust names): value} (set after FromConfig),
   "delays": optional {"first_token_ns": int, "complete_ns": int, "n_tokens": int}
  }
The SUT completes each sample at once (or after the fixed delays, on a
thread), sending token ids as little-endian int32. What it records: the
loaded sets, the indices of every issued query in issue order, and (with
trace enabled) each query's scheduled time relative to the first query.
Run one process per case that uses a user_conf: LoadGen applies its
built-in mlperf.conf only at the first FromConfig(user.conf) of a process.
"""
import array
import json
import os
import re
import sys
import threading
import time

try:
    import mlperf_loadgen as lg
except ImportError:
    sys.stderr.write("mlperf_loadgen is not installed: pip install mlcommons-loadgen==6.0.17\n")
    sys.exit(3)

PY_NAMES = {"server_ttft_latency": "ttft_latency", "server_tpot_latency": "tpot_latency"}


def tokens_for(index, n):
    # Deterministic token ids, shared with the Rust side of the tests.
    return array.array("i", [(index * 7 + k) % 50000 for k in range(n)])


def run_case(case):
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, case["scenario"])
    s.mode = getattr(lg.TestMode, case["mode"])
    if case.get("user_conf"):
        s.FromConfig(case["user_conf"], case["model"], case["scenario"])
    for k, v in case.get("fields", {}).items():
        setattr(s, PY_NAMES.get(k, k), v)
    loaded, queries = [], []
    delays = case.get("delays")
    n_tokens = (delays or {}).get("n_tokens", 3)
    keep = []
    pending = []

    def respond(qs):
        for q in qs:
            toks = tokens_for(q.index, n_tokens)
            keep.append(toks)
            addr, n = toks.buffer_info()
            if case["scenario"] != "Offline":
                first = array.array("i", toks[:1])
                keep.append(first)
                fa, fn = first.buffer_info()
                lg.FirstTokenComplete([lg.QuerySampleResponse(q.id, fa, fn * 4)])
            lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, addr, n * 4, n_tokens)])

    def delayed(qs):
        for q in qs:
            toks = tokens_for(q.index, n_tokens)
            first = array.array("i", toks[:1])
            time.sleep(delays["first_token_ns"] / 1e9)
            if case["scenario"] != "Offline":
                fa, fn = first.buffer_info()
                lg.FirstTokenComplete([lg.QuerySampleResponse(q.id, fa, fn * 4)])
            time.sleep((delays["complete_ns"] - delays["first_token_ns"]) / 1e9)
            addr, n = toks.buffer_info()
            lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, addr, n * 4, n_tokens)])

    def issue(qs):
        queries.append([q.index for q in qs])
        if delays:
            t = threading.Thread(target=delayed, args=(list(qs),))
            t.start()
            pending.append(t)
        else:
            respond(qs)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(case["total"], case["perf"], lambda idx: loaded.append(list(idx)), lambda idx: None)
    log = lg.LogSettings()
    os.makedirs(case["outdir"], exist_ok=True)
    log.log_output.outdir = case["outdir"]
    log.enable_trace = case.get("trace", True)
    if case.get("audit_config"):
        lg.StartTestWithLogSettings(sut, qsl, s, log, case["audit_config"])
    else:
        lg.StartTestWithLogSettings(sut, qsl, s, log, os.path.join(case["outdir"], "no-audit.config"))
    for t in pending:
        t.join()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    return {"loaded_sets": loaded, "queries": queries, **read_logs(case["outdir"])}


def read_logs(outdir):
    out = {"generated": [], "scheduled_us": []}
    with open(os.path.join(outdir, "mlperf_log_detail.txt")) as f:
        cur = {}
        for line in f:
            m = re.match(r':::MLLOG \{"key": "(generated_[a-z_]+)", "value": (\d+),', line)
            if m:
                cur[m.group(1)] = int(m.group(2))
                if len(cur) == 3:
                    out["generated"].append(cur)
                    cur = {}
    trace = os.path.join(outdir, "mlperf_log_trace.json")
    if os.path.exists(trace):
        # Server: one "Latency" counter event per sample, at its query's
        # scheduled time (µs with 3 decimals = exact ns).
        seen = {}
        with open(trace) as f:
            for line in f:
                if '"name":"Sample"' in line and '"ph":"b"' in line:
                    m = re.search(r'"ts":([0-9.]+).*"query_seq":(\d+)', line)
                    if m:
                        seen[int(m.group(2))] = m.group(1)
        out["scheduled_us"] = [seen[k] for k in sorted(seen)]
    return out


def main():
    cases = json.load(sys.stdin)
    results = [run_case(c) for c in cases]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
