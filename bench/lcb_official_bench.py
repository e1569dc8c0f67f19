"""Benchmark: the official LiveCodeBench harness on the samples of `lcb_bench`.

Runs the samples that `cargo run --release -p eval --example lcb_bench --
--dump JOBS.json ...` writes through the official `run_test`, with the
official process structure: a ProcessPoolExecutor of W workers, and per sample
a Manager and a multiprocessing.Process joined with the outer timeout
((60 + 1) x tests + 5 s). Prints the same table as lcb_bench, and checks that
every sample passes.

Usage: python3 bench/lcb_official_bench.py LIVECODEBENCH/lcb_runner/evaluation JOBS.json W...
Needs: a checkout of LiveCodeBench/LiveCodeBench (MLPerf pins b1e7cab4) and numpy.
"""
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.set_int_max_str_digits(50000)  # as the official metrics module does
TIMEOUT = 60


def _child(sample, code, out):
    from testing_util import run_test

    results, _ = run_test(sample, test=code, timeout=TIMEOUT)
    out.append(results)


def one(job):
    sample = {"input_output": json.dumps(
        {"inputs": job["inputs"], "outputs": job["outputs"], "fn_name": job["fn_name"]})}
    manager = multiprocessing.Manager()
    out = manager.list()
    p = multiprocessing.Process(target=_child, args=(sample, job["code"], out))
    p.start()
    p.join(timeout=(TIMEOUT + 1) * len(job["inputs"]) + 5)
    if p.is_alive():
        p.kill()
    results = list(out[0]) if out else [-1] * len(job["inputs"])
    manager.shutdown()
    return all(r is True or (not isinstance(r, bool) and r > 0) for r in results)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.path.insert(0, os.path.abspath(sys.argv[1]))
    import testing_util  # noqa: F401  (loaded before forking, as the official scorer has it)
    jobs = json.load(open(sys.argv[2]))
    tests = sum(len(j["inputs"]) for j in jobs)
    print(f"{len(jobs)} samples, {tests} tests; {os.cpu_count()} cores")
    print("| workers | wall s | samples/s | tests/s |")
    print("|---|---|---|---|")
    for w in map(int, sys.argv[3:]):
        start = time.time()
        with ProcessPoolExecutor(max_workers=w) as pool:
            passed = list(pool.map(one, jobs))
        secs = time.time() - start
        if not all(passed):
            sys.exit(f"sample {passed.index(False)} failed")
        print(f"| {w} | {secs:.2f} | {len(jobs) / secs:.1f} | {tests / secs:.1f} |", flush=True)


if __name__ == "__main__":
    main()
