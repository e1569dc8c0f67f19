"""The official LoadGen wheel (`import mlperf_loadgen`) running the null SUT
of tests/null_sut.rs: every sample completed at once with five int32 tokens.

usage: wheel_null_sut.py SCENARIO USER_CONF OUTDIR SAMPLES
"""
import array
import sys

import mlperf_loadgen as lg

scenario, user_conf, outdir, samples = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = lg.TestSettings()
settings.scenario = {"Offline": lg.TestScenario.Offline, "Server": lg.TestScenario.Server}[scenario]
settings.mode = lg.TestMode.PerformanceOnly
settings.FromConfig(user_conf, "gpt-oss-120b", scenario)

tokens = array.array("i", [7, 8, 9, 10, 11]).tobytes()
buf = array.array("B", tokens)
addr, _ = buf.buffer_info()


def issue(query_samples):
    responses = [lg.QuerySampleResponse(s.id, addr, len(tokens), 5) for s in query_samples]
    if scenario != "Offline":
        lg.FirstTokenComplete([lg.QuerySampleResponse(s.id, addr, 4, 1) for s in query_samples])
    lg.QuerySamplesComplete(responses)


sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(samples, samples, lambda _: None, lambda _: None)
log = lg.LogSettings()
log.log_output.outdir = outdir
log.enable_trace = False
lg.StartTestWithLogSettings(sut, qsl, settings, log, "")
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
