"""Does telemetry slow the client down? Runs `mlperf-gptoss run` against
`serve --model sim` with telemetry off and on, alternating (off, on, off,
on, ...), on the same machine and server, and compares:

* Offline: LoadGen's samples per second (mlperf_log_summary.txt), the sim
  answering at once, so the client is the bottleneck;
* Server: the TTFT error, the client's first-token time minus the sim's
  known first-token delay (samples.jsonl: first_token_ns - sent_ns - ttft);
* the CPU time of the telemetry threads (`telemetry-scrape`,
  `telemetry-power`) against the whole client's, read from
  /proc/PID/task/*/stat while the run goes: a cost that other load on the
  machine does not blur.

"on" scrapes the sim's /metrics every second and reads power at 10 Hz from
a command (no GPU here: NVML's read is a library call, cheaper than a
pipe); "off" is --metrics-interval 0 --power none.

    cargo build --release --bin mlperf-gptoss
    python3 bench/telemetry_overhead.py --bin target/release/mlperf-gptoss
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--bin", default="target/release/mlperf-gptoss")
p.add_argument("--offline-rows", type=int, default=4000)
p.add_argument("--server-queries", type=int, default=3000)
p.add_argument("--server-qps", type=float, default=300)
p.add_argument("--ttft-ms", type=float, default=20)
p.add_argument("--repeats", type=int, default=3)
args = p.parse_args()

work = tempfile.mkdtemp(prefix="telemetry_bench_")
power = os.path.join(work, "power.sh")
with open(power, "w") as f:
    f.write("while :; do echo 300; sleep 0.1; done\n")
TELEMETRY = {
    "off": ["--metrics-interval", "0", "--power", "none"],
    "on": ["--metrics-interval", "1", "--power-cmd", f"sh {power}"],
}


def dataset(rows):
    path = os.path.join(work, f"data_{rows}.jsonl")
    with open(path, "w") as f:
        for i in range(rows):
            f.write(json.dumps({"input_tokens": [1000 + (i * 7 + t) % 90000 for t in range(64)]}) + "\n")
    return path


def user_conf(name, lines):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def serve(ttft_ms):
    proc = subprocess.Popen(
        [args.bin, "serve", "--port", "0", "--model", "sim", "--sim-ttft-ms", str(ttft_ms),
         "--sim-tpot-ms", "0", "--sim-output-len", "fixed:32", "--sim-max-concurrency", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().strip().removeprefix("listening on ")
    return proc, url


def run(url, scenario, data, conf, mode, out):
    cmd = [args.bin, "run", "--backend", "sglang", "--endpoint", url, "--scenario", scenario,
           "--dataset", data, "--user-conf", conf, "--max-new-tokens", "32",
           "--output-dir", out] + TELEMETRY[mode]
    if scenario == "offline":
        cmd += ["--max-concurrency", "1024"]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    ticks = {}
    while proc.poll() is None:
        for tid in os.listdir(f"/proc/{proc.pid}/task") if os.path.exists(f"/proc/{proc.pid}/task") else []:
            try:
                with open(f"/proc/{proc.pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks[tid] = (comm, int(fields[11]) + int(fields[12]))
        time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed")
    hz = os.sysconf("SC_CLK_TCK")
    cpu_total = sum(t for _, t in ticks.values()) / hz
    cpu_telemetry = sum(t for c, t in ticks.values() if c.startswith("telemetry-")) / hz
    CPU[mode].append((cpu_telemetry, cpu_total))
    return os.path.join(out, scenario, "performance")


def samples_per_s(outdir):
    with open(os.path.join(outdir, "mlperf_log_summary.txt")) as f:
        for line in f:
            if line.startswith("Samples per second"):
                return float(line.split(":")[1])
    raise SystemExit(f"no samples/s in {outdir}")


def ttft_errors_ms(outdir, ttft_ms):
    errs = []
    with open(os.path.join(outdir, "samples.jsonl")) as f:
        for line in f:
            s = json.loads(line)
            errs.append((s["first_token_ns"] - s["sent_ns"]) / 1e6 - ttft_ms)
    errs.sort()
    return errs[len(errs) // 2], errs[int(len(errs) * 0.99)]


CPU = {"off": [], "on": []}
results = {"off": {"sps": [], "p50": [], "p99": []}, "on": {"sps": [], "p50": [], "p99": []}}
off_conf = user_conf("offline.conf", ["*.Offline.min_duration = 0",
                                      f"*.Offline.min_query_count = {args.offline_rows}"])
srv_conf = user_conf("server.conf", ["*.Server.min_duration = 0",
                                     f"*.Server.min_query_count = {args.server_queries}",
                                     f"*.Server.target_qps = {args.server_qps}"])
off_data, srv_data = dataset(args.offline_rows), dataset(args.server_queries)
fast, fast_url = serve(0)
slow, slow_url = serve(args.ttft_ms)
try:
    for i in range(args.repeats):
        for mode in ("off", "on"):
            out = os.path.join(work, f"{mode}{i}")
            results[mode]["sps"].append(samples_per_s(run(fast_url, "offline", off_data, off_conf, mode, out)))
            p50, p99 = ttft_errors_ms(run(slow_url, "server", srv_data, srv_conf, mode, out), args.ttft_ms)
            results[mode]["p50"].append(p50)
            results[mode]["p99"].append(p99)
            print(f"run {i} {mode:3}: {results[mode]['sps'][-1]:9.1f} samples/s, "
                  f"TTFT error p50 {p50:.3f} ms p99 {p99:.3f} ms", flush=True)
finally:
    fast.terminate()
    slow.terminate()

print(f"\nmedians of {args.repeats} (load average {os.getloadavg()[0]:.2f}):")
print("| telemetry | Offline samples/s | TTFT error p50 ms | TTFT error p99 ms |")
print("|---|---|---|---|")
med = {m: {k: statistics.median(v) for k, v in r.items()} for m, r in results.items()}
for m in ("off", "on"):
    print(f"| {m} | {med[m]['sps']:.1f} | {med[m]['p50']:.3f} | {med[m]['p99']:.3f} |")
print(f"| on/off | {med['on']['sps'] / med['off']['sps']:.4f} | "
      f"{med['on']['p50'] / med['off']['p50']:.4f} | {med['on']['p99'] / med['off']['p99']:.4f} |")
tel = sum(c for c, _ in CPU["on"])
tot = sum(t for _, t in CPU["on"])
print(f"\ntelemetry threads' CPU over all 'on' runs: {tel:.2f} s of the client's {tot:.2f} s "
      f"({100 * tel / max(tot, 1e-9):.2f} %; /proc ticks of 1/{os.sysconf('SC_CLK_TCK')} s)")
