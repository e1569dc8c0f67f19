"""A tiny SUT driven by the official LoadGen wheel (mlperf_loadgen), so that
tests have logs the official LoadGen wrote, with no samples.jsonl beside them.

usage: official_loadgen_sut.py OUTDIR MODEL SCENARIO USER_CONF

MODEL is a benchmark name of mlperf.conf: gpt-oss-120b (token latencies on)
or another benchmark such as resnet50 (no token latencies). Each sample
answers 8 tokens after a few milliseconds, from a worker thread.
"""
import array
import queue
import sys
import threading
import time

import mlperf_loadgen as lg

SAMPLES = 64
TOKENS = 8


def main():
    outdir, model, scenario, user_conf = sys.argv[1:5]
    settings = lg.TestSettings()
    settings.scenario = {"Server": lg.TestScenario.Server, "Offline": lg.TestScenario.Offline}[scenario]
    settings.mode = lg.TestMode.PerformanceOnly
    settings.FromConfig(user_conf, model, scenario)
    streaming = scenario == "Server" and model.startswith("gpt-oss")

    work = queue.Queue()

    def worker():
        while True:
            sample = work.get()
            if sample is None:
                return
            tokens = array.array("i", range(100, 100 + TOKENS))
            ptr, n = tokens.buffer_info()
            if streaming:
                time.sleep(0.002)
                lg.FirstTokenComplete([lg.QuerySampleResponse(sample.id, ptr, 4)])
            time.sleep(0.004)
            lg.QuerySamplesComplete([lg.QuerySampleResponse(sample.id, ptr, n * 4, TOKENS)])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()

    def issue(samples):
        for s in samples:
            work.put(s)

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(SAMPLES, SAMPLES, lambda ids: None, lambda ids: None)
    log = lg.LogSettings()
    log.log_output.outdir = outdir
    log.enable_trace = False
    lg.StartTestWithLogSettings(sut, qsl, settings, log)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)


if __name__ == "__main__":
    main()
