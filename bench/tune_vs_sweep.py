#!/usr/bin/env python3
"""`mlperf-gptoss tune` against a naive linear sweep, side by side, at the
same budget, against the same `serve --model sim` server.

The reference boundary comes from neither: it is the highest QPS at which
an M/D/c queue (the sim's slots and service time, plus 1 ms for tokio's
millisecond timers) fed LoadGen's own seeded schedule (`mlperf-gptoss plan`)
passes LoadGen's rules (p99 TTFT within the limit and early stopping).

For each method it reports how many probes, and how much probe wall time,
it took until its highest passing QPS first came within 5 % of that
boundary. The sweep steps by 5 % of the capacity estimate tune also uses
(slots / service time) from 20 % of it upwards, each step a real
`mlperf-gptoss run`, until a run fails or the budget is spent.

    cargo build --release -p cli
    python3 bench/tune_vs_sweep.py [--bin target/release/mlperf-gptoss] [--budget 600]
"""

import argparse
import heapq
import json
import math
import os
import subprocess
import tempfile
import time

SLOTS, TTFT_MS, TPOT_MS, TOKENS, QUERIES, SAMPLES = 8, 10, 1, 50, 1000, 32
LIMIT_MS = 60  # --ttft-limit-ms
CONF = ""  # set in main()


def conf_text(limit_ms):
    return (
        f"gpt-oss-120b.Server.ttft_latency = {limit_ms}\n"
        "gpt-oss-120b.Server.tpot_latency = 20\n"
        f"gpt-oss-120b.Server.min_query_count = {QUERIES}\n"
        "gpt-oss-120b.Server.min_duration = 1000\n"
    )


def h(t, p=0.99, c=0.99):
    """LoadGen's early-stopping h(t): the fewest under-latency queries next to t over-latency
    ones (the regularized incomplete beta through 2F1, a lower-bound search)."""

    def odds(hh):
        a, b, x = hh, t + 1, p
        lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        term, total, i, z = 1.0, 1.0, 0, x / (x - 1)
        while abs(term) > 2**-33:
            term *= (1 - b + i) * z / (1 + a + i)
            total += term
            i += 1
        return math.exp(a * math.log(x) + (b - 1) * math.log(1 - x) - lbeta) / a * total

    y1 = math.ceil(math.log(1 - c) / math.log(p))
    lo, hi = int(t * p / (1 - p) + y1), int(t * y1 + y1 + 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if odds(mid) < 1 - c:
            hi = mid
        else:
            lo = mid + 1
    return lo


def schedule(binary, work, qps):
    conf = os.path.join(work, "plan.user.conf")
    with open(conf, "w") as f:
        f.write(CONF + f"gpt-oss-120b.Server.target_qps = {qps}\n")
    out = subprocess.run(
        [binary, "plan", "--scenario", "server", "--total-sample-count", str(SAMPLES),
         "--user-conf", conf],
        check=True, capture_output=True, text=True, cwd=work,
    ).stdout
    plan = json.loads(out)
    return [q["scheduled_ns"] for q in plan["queries"]]


def model_passes(binary, work, qps):
    ms = 1_000_000
    first = (TTFT_MS + 1) * ms
    service = first + (TOKENS - 1) * TPOT_MS * ms
    free = [0] * SLOTS
    ttft = []
    for a in schedule(binary, work, qps):
        f = heapq.heappop(free)
        start = max(a, f)
        heapq.heappush(free, start + service)
        ttft.append(start - a + first)
    limit = LIMIT_MS * ms
    over = sum(1 for t in ttft if t > limit)
    p99 = sorted(ttft)[int(len(ttft) * 0.99)]
    return p99 <= limit and len(ttft) >= h(over) + over


def boundary(binary, work):
    lo, hi = 10.0, 10.0
    while model_passes(binary, work, hi):
        lo, hi = hi, hi * 1.5
    while hi / lo - 1 > 0.001:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if model_passes(binary, work, mid) else (lo, mid)
    return lo


def sim_server(binary):
    proc = subprocess.Popen(
        [binary, "serve", "--port", "0", "--model", "sim", "--sim-max-concurrency", str(SLOTS),
         "--sim-ttft-ms", str(TTFT_MS), "--sim-tpot-ms", str(TPOT_MS),
         "--sim-output-len", f"fixed:{TOKENS}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    return proc, url


def common_flags(work, url):
    data = os.path.join(work, "data.jsonl")
    with open(data, "w") as f:
        for i in range(SAMPLES):
            ids = [1000 + 7 * t + i for t in range(24)]
            f.write(json.dumps({"input_tokens": ids, "dataset": "gpqa_diamond", "id": i}) + "\n")
    return ["--scenario", "server", "--backend", "sglang", "--endpoint", url, "--dataset", data,
            "--max-new-tokens", str(TOKENS)]


def first_within(probes, b):
    """(probes, seconds) until the highest VALID QPS first is within 5 % of b."""
    best, spent = 0.0, 0.0
    for n, (qps, valid, seconds) in enumerate(probes, 1):
        spent += seconds
        if valid and qps <= b * 1.0001:
            best = max(best, qps)
        if best >= 0.95 * b:
            return n, spent
    return None, spent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/mlperf-gptoss")
    ap.add_argument("--budget", type=float, default=600.0, help="seconds, for each method")
    ap.add_argument("--ttft-limit-ms", type=int, default=60,
                    help="the user.conf TTFT limit (the sim's first token takes 10 ms)")
    args = ap.parse_args()
    global CONF, LIMIT_MS
    LIMIT_MS = args.ttft_limit_ms
    CONF = conf_text(LIMIT_MS)
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="tune-bench-")
    b = boundary(binary, work)
    capacity = SLOTS / ((TTFT_MS + 1 + (TOKENS - 1) * TPOT_MS) / 1000)
    server, url = sim_server(binary)
    try:
        flags = common_flags(work, url)
        conf = os.path.join(work, "user.conf")
        with open(conf, "w") as f:
            f.write(CONF)
        # tune, with the capacity estimate from its own Offline burst.
        start = time.monotonic()
        done = subprocess.run(
            [binary, "tune", *flags, "--user-conf", conf, "--probe-duration", "1s",
             "--confirm-duration", "1s", "--budget", f"{args.budget}s", "--output-dir", "tune"],
            cwd=work, capture_output=True, text=True,
        )
        with open(os.path.join(work, "tune.stdout"), "w") as f:
            f.write(done.stdout + done.stderr)
        tune_wall = time.monotonic() - start
        t = json.load(open(os.path.join(work, "tune", "tune.json")))
        tuned = [(p["qps"], p["verdict"] == "VALID", p["duration_s"])
                 for p in t["probes"] if p["kind"] in ("search", "estimate")]
        # The naive sweep: 20 %, 25 %, 30 %, … of the capacity, until a failure or the budget.
        sweep, spent, k = [], 0.0, 4
        while spent < args.budget:
            qps = round(capacity * 0.05 * k, 3)
            with open(os.path.join(work, "sweep.user.conf"), "w") as f:
                f.write(CONF + f"gpt-oss-120b.Server.target_qps = {qps}\n")
            out = f"sweep/{k:02}"
            s0 = time.monotonic()
            subprocess.run(
                [binary, "run", *flags, "--user-conf", "sweep.user.conf", "--output-dir", out],
                cwd=work, capture_output=True,
            )
            seconds = time.monotonic() - s0
            spent += seconds
            res = json.load(open(os.path.join(work, out, "server", "performance", "results.json")))
            valid = res["loadgen"]["result_valid"] is True
            sweep.append((qps, valid, seconds))
            if not valid:
                break
            k += 1
    finally:
        server.kill()
    print(f"M/D/{SLOTS} boundary {b:.2f} QPS (capacity {capacity:.1f}, TTFT limit {LIMIT_MS} ms); "
          f"budget {args.budget:.0f} s each")
    print("| method | probes run | probe wall s | probes to within 5 % | wall s to within 5 % | highest VALID QPS |")
    print("|---|---|---|---|---|---|")
    for name, probes in (("tune", tuned), ("linear sweep (5 % steps)", sweep)):
        n, s = first_within(probes, b)
        best = max([q for q, v, _ in probes if v], default=0.0)
        print(f"| {name} | {len(probes)} | {sum(p[2] for p in probes):.1f} | "
              f"{n if n else 'never'} | {f'{s:.1f}' if n else '-'} | {best:.2f} |")
    print(f"tune's table: {os.path.join(work, 'tune.stdout')}")
    print(f"tune's answer: target_qps {t['target_qps']} (margin "
          f"{100 * (t['margin'] or 0):.1f} %), whole command {tune_wall:.1f} s with the confirming run")


if __name__ == "__main__":
    main()
