#!/usr/bin/env python3
"""Benchmark the official LoadGen (pip: mlcommons-loadgen==6.0.17) with a
Python null SUT: Server scenario at the given target QPS for a fixed
scheduled duration; reports issue rate and schedule lateness (actual issue
minus scheduled time, from the trace's per-sample issue_start_ns).

usage: bench_official.py QPS DURATION_MS OUTDIR   -> prints one JSON object
"""
import array
import json
import os
import re
import sys
import time

import mlperf_loadgen as lg


def main():
    qps, duration_ms, outdir = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    s = lg.TestSettings()
    s.scenario = lg.TestScenario.Server
    s.mode = lg.TestMode.PerformanceOnly
    s.server_target_qps = qps
    s.min_duration_ms = duration_ms
    s.min_query_count = 1
    s.use_token_latencies = True
    s.qsl_rng_seed, s.sample_index_rng_seed, s.schedule_rng_seed = 1, 2, 3
    toks = array.array("i", [1, 2, 3])
    addr, n = toks.buffer_info()
    first = array.array("i", [1])
    faddr, fn = first.buffer_info()
    count = [0]

    def issue(qs):
        count[0] += len(qs)
        lg.FirstTokenComplete([lg.QuerySampleResponse(q.id, faddr, fn * 4) for q in qs])
        lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, addr, n * 4, 3) for q in qs])

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(1000, 1000, lambda i: None, lambda i: None)
    log = lg.LogSettings()
    os.makedirs(outdir, exist_ok=True)
    log.log_output.outdir = outdir
    log.enable_trace = True
    t0 = time.monotonic()
    lg.StartTestWithLogSettings(sut, qsl, s, log, os.path.join(outdir, "none.config"))
    wall = time.monotonic() - t0
    lat, sched = [], []
    with open(os.path.join(outdir, "mlperf_log_trace.json")) as f:
        for line in f:
            if '"name":"Sample"' in line and '"ph":"b"' in line:
                m = re.search(r'"ts":([0-9.]+).*"issue_start_ns":(-?\d+)', line)
                if m:
                    sched.append(float(m.group(1)) * 1000)
                    lat.append(int(m.group(2)))
    lat.sort()
    span_s = (max(sched) + lat[-1] - min(sched)) / 1e9 if sched else 0
    pick = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
    print(json.dumps({"impl": "official-6.0.17+python", "qps": qps, "queries": len(lat),
                      "issue_rate_qps": len(lat) / span_s if span_s else 0,
                      "lateness_p50_ns": pick(0.5), "lateness_p99_ns": pick(0.99),
                      "lateness_max_ns": lat[-1], "wall_s": wall}))
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


if __name__ == "__main__":
    main()
