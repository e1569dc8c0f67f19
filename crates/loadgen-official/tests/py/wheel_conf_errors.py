"""Prints, one per line, the error_invalid_config messages the official
LoadGen wheel logs for a user.conf (FromConfig's own words), after a tiny
Offline run that makes it write its detail log.

usage: wheel_conf_errors.py USER_CONF OUTDIR
"""
import json
import sys

import mlperf_loadgen as lg

user_conf, outdir = sys.argv[1], sys.argv[2]
settings = lg.TestSettings()
settings.scenario = lg.TestScenario.Offline
settings.mode = lg.TestMode.PerformanceOnly
settings.FromConfig(user_conf, "gpt-oss-120b", "Offline")
settings.performance_sample_count_override = 4
settings.min_duration_ms = 0
settings.min_query_count = 4


def issue(samples):
    lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0, 2) for s in samples])


sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(4, 4, lambda _: None, lambda _: None)
log = lg.LogSettings()
log.log_output.outdir = outdir
log.enable_trace = False
lg.StartTestWithLogSettings(sut, qsl, settings, log, "")
with open(f"{outdir}/mlperf_log_detail.txt") as f:
    for line in f:
        entry = json.loads(line[len(":::MLLOG "):])
        if entry["key"] == "error_invalid_config":
            print(entry["value"])
