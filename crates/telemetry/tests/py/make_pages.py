"""Writes the /metrics pages under tests/data with prometheus_client 0.26.0,
the library SGLang, vLLM and TensorRT-LLM expose their metrics with, using
each server's own metric names, help texts, types and label names (data,
read from their released sources, cited in each page's header) and, for
SGLang, its multiprocess mode. Two pages per server, "t0" and "t1", two
seconds of load apart, so that rates and ratios between scrapes are tested.

    pip install prometheus_client==0.26.0
    python3 crates/telemetry/tests/py/make_pages.py crates/telemetry/tests/data
"""

import os
import sys
import tempfile

OUT = sys.argv[1]
MODEL = "openai/gpt-oss-120b"


def header(lines):
    return "".join(f"# {line}\n" for line in lines)


def write(name, head, body):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(header(head) + body)


# --- SGLang 0.5.23: multiprocess mode, as sglang/srt/utils/common.py sets it up.
def sglang(step):
    with tempfile.TemporaryDirectory() as d:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = d
        import importlib
        import prometheus_client
        from prometheus_client import values

        importlib.reload(values)  # pick the multiprocess value class
        importlib.reload(prometheus_client.metrics)
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess
        from prometheus_client.metrics import Counter, Gauge, Histogram

        labels = {"model_name": MODEL, "engine_type": "unified", "tp_rank": 0, "pp_rank": 0, "moe_ep_rank": 0}
        names = list(labels)

        def gauge(name, doc, value):
            g = Gauge(name=name, documentation=doc, labelnames=names, multiprocess_mode="mostrecent")
            g.labels(**labels).set(value)

        gauge("sglang:num_running_reqs", "The number of running requests.", [64, 128][step])
        gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", [12, 0][step])
        gauge("sglang:gen_throughput", "The generation throughput (token/s).", [5120.5, 9876.25][step])
        gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", [0.125, 0.5][step])
        gauge("sglang:token_usage", "The token usage.", [0.41, 0.87][step])
        gauge("sglang:spec_accept_length", "Mean acceptance length of speculative decoding (accepted drafts + bonus token per forward).", [2.75, 3.1][step])
        gauge("sglang:spec_accept_rate", "Speculative acceptance rate (`accepted drafts / proposed drafts` in batch).", [0.58, 0.7][step])
        # A labelled gauge never set: only its HELP and TYPE lines.
        Gauge(name="sglang:num_grammar_queue_reqs", documentation="The number of requests in the grammar waiting queue.", labelnames=names, multiprocess_mode="mostrecent")
        c = Counter(name="sglang:num_retracted_requests_total", documentation="Total number of retracted requests.", labelnames=names)
        c.labels(**labels).inc([3, 7][step])
        c = Counter(name="sglang:generation_tokens_total", documentation="Number of generation tokens processed.", labelnames=names)
        c.labels(**labels).inc([100000, 119752][step])
        h = Histogram(name="sglang:time_to_first_token_seconds", documentation="Histogram of time to first token in seconds.", labelnames=names, buckets=[0.1, 0.5, 1.0, 5.0])
        for v in [0.05, 0.3, 0.7, 9.0][: 2 + 2 * step]:
            h.labels(**labels).observe(v)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry).decode()


SGLANG_HEAD = [
    "SGLang 0.5.23 /metrics (pip download sglang==0.5.23). Names, help texts, types and labels",
    "from sglang/srt/observability/metrics_collector.py (SchedulerMetricsCollector, labels",
    "from its caller at line 1383); exposition by prometheus_client 0.26.0 in multiprocess mode",
    "as sglang/srt/utils/common.py add_prometheus_middleware sets it up. Written by",
    "crates/telemetry/tests/py/make_pages.py.",
]


# --- vLLM 0.34.0: one process registry, counters with _total and _created.
def vllm(step):
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

    r = CollectorRegistry()
    names = ["model_name", "engine"]
    lv = [MODEL, "0"]

    def gauge(name, doc, value):
        Gauge(name=name, documentation=doc, labelnames=names, registry=r, multiprocess_mode="mostrecent").labels(*lv).set(value)

    def counter(name, doc, value):
        Counter(name=name, documentation=doc, labelnames=names, registry=r).labels(*lv).inc(value)

    gauge("vllm:num_requests_running", "Number of requests in model execution batches.", [100, 96][step])
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", [40, 3][step])
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", [0.93, 0.5][step])
    counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", [50000, 58000][step])
    counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", [10000, 16000][step])
    counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", [5, 9][step])
    counter("vllm:generation_tokens", "Number of generation tokens processed.", [200000, 221000][step])
    counter("vllm:spec_decode_num_drafts", "Number of spec decoding drafts.", [30000, 34000][step])
    counter("vllm:spec_decode_num_draft_tokens", "Number of draft tokens.", [90000, 102000][step])
    counter("vllm:spec_decode_num_accepted_tokens", "Number of accepted tokens.", [54000, 61800][step])
    Counter(name="vllm:request_success", documentation="Count of successfully processed requests.", labelnames=names + ["finished_reason"], registry=r).labels(*lv, "stop").inc([10, 20][step])
    h = Histogram(name="vllm:e2e_request_latency_seconds", documentation="Histogram of e2e request latency in seconds.", labelnames=names, registry=r, buckets=[0.3, 0.5, 0.8, 1.0])
    for v in [0.2, 0.9, 3.0][: 1 + step * 2]:
        h.labels(*lv).observe(v)
    return generate_latest(r).decode()


VLLM_HEAD = [
    "vLLM 0.34.0 /metrics (pip download vllm==0.34.0). Names, help texts, types and labels",
    "from vllm/v1/metrics/loggers.py (PrometheusStatLogger: labelnames model_name, engine)",
    "and vllm/v1/spec_decode/metrics.py (SpecDecodingProm); exposition by prometheus_client",
    "0.26.0. Written by crates/telemetry/tests/py/make_pages.py.",
]


# --- TensorRT-LLM: trtllm-serve's /prometheus/metrics.
def trtllm(step):
    from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

    r = CollectorRegistry()
    labels = {"model_name": MODEL, "engine_type": "trtllm"}
    names = list(labels)

    def gauge(name, doc, value):
        Gauge(name="trtllm_" + name, documentation=doc, labelnames=names, registry=r).labels(**labels).set(value)

    def counter(name, doc, value):
        Counter(name="trtllm_" + name, documentation=doc, labelnames=names, registry=r).labels(**labels).inc(value)

    gauge("num_requests_running", "Number of active requests", [256, 250][step])
    gauge("num_requests_waiting", "Number of queued requests", [31, 0][step])
    gauge("kv_cache_utilization", "KV cache utilization", [0.66, 0.7][step])
    gauge("kv_cache_hit_rate", "KV cache hit rate", [0.25, 0.3][step])
    gauge("num_paused_requests", "Number of paused requests", [2, 0][step])
    gauge("spec_decode_acceptance_length", "Acceptance length in speculative decoding", [2.5, 2.9][step])
    counter("generation_tokens_total", "Cumulative number of generation (output) tokens produced.", [400000, 430000][step])
    counter("spec_decode_num_draft_tokens_total", "Total number of draft tokens in speculative decoding", [60000, 66000][step])
    counter("spec_decode_num_accepted_tokens_total", "Total number of accepted tokens in speculative decoding", [40000, 44500][step])
    return generate_latest(r).decode()


TRTLLM_HEAD = [
    "TensorRT-LLM trtllm-serve /prometheus/metrics. Names, help texts, types and labels from",
    "tensorrt_llm/metrics/collector.py (MetricsCollector, prefix trtllm_) of NVIDIA/TensorRT-LLM",
    "at commit 050f80def8df236e326949c8bd9dee10fd896a83 (the PyPI package is a stub that",
    "downloads from NVIDIA's index); exposition by prometheus_client 0.26.0. Written by",
    "crates/telemetry/tests/py/make_pages.py.",
]

# --- dcgm-exporter: a Go exporter; its page as its README shows it (labels
# with a space after the comma, the blank-value sentinel) with the power
# fields of etc/default-counters.csv, two hosts' GPUs.
DCGM_HEAD = [
    "dcgm-exporter /metrics, as NVIDIA/dcgm-exporter README.md (commit 00d6d344ea4a) shows",
    "it, with the fields and help texts of its etc/default-counters.csv at that commit",
    "(DCGM_FI_DEV_POWER_USAGE gauge in W, DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter in mJ)",
    "and the labels gpu, UUID, device, modelName, Hostname. Written by hand.",
]
DCGM = """# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
# TYPE DCGM_FI_DEV_SM_CLOCK gauge
DCGM_FI_DEV_SM_CLOCK{gpu="0", UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 1980
DCGM_FI_DEV_SM_CLOCK{gpu="1", UUID="GPU-1b2c3d4e-0000-1111-2222-333344445555",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 1965
# HELP DCGM_FI_DEV_MEMORY_TEMP Memory temperature (in C).
# TYPE DCGM_FI_DEV_MEMORY_TEMP gauge
DCGM_FI_DEV_MEMORY_TEMP{gpu="0", UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 9223372036854775794
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0", UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 612.345
DCGM_FI_DEV_POWER_USAGE{gpu="1", UUID="GPU-1b2c3d4e-0000-1111-2222-333344445555",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 598.01
DCGM_FI_DEV_POWER_USAGE{gpu="0", UUID="GPU-99990000-aaaa-bbbb-cccc-ddddeeeeffff",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-b"} 120.5
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0", UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 3.8476621e+10
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0", UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-a"} 97
"""

if __name__ == "__main__":
    for step in (0, 1):
        write(f"vllm_0.34.0_t{step}.txt", VLLM_HEAD, vllm(step))
        write(f"trtllm_t{step}.txt", TRTLLM_HEAD, trtllm(step))
    # Multiprocess mode reads the environment at import: SGLang last, in processes of their own.
    if len(sys.argv) > 2:
        step = int(sys.argv[2])
        write(f"sglang_0.5.23_t{step}.txt", SGLANG_HEAD, sglang(step))
    else:
        import subprocess

        for step in (0, 1):
            subprocess.run([sys.executable, __file__, OUT, str(step)], check=True)
        write("dcgm_exporter.txt", DCGM_HEAD, DCGM)
