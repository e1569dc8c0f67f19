#!/usr/bin/env bash
# The two ways to scale `run` over several servers, side by side on the same
# workers: two `serve --model sim` workers reached either through two
# `--endpoint`s (our fewest-outstanding balancing in the client) or through
# one sglang-router endpoint in front of them (its default cache-aware
# policy). Each way runs an Offline and a Server test, REPS times,
# alternating, and the script prints the median samples/s and TTFT p99 with the ratio
# router / endpoints (docs/benchmarks.md § Scale-out).
#
#   cargo build --release --bin mlperf-gptoss
#   pip install sglang-router==0.3.2
#   scripts/bench-scale-out.sh            # SAMPLES=2000 QPS=250 REPS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/mlperf-gptoss}
samples=${SAMPLES:-2000}
qps=${QPS:-250}
reps=${REPS:-2}
# Each worker generates at most 32 sequences at once, 20 ms to the first
# token, 1 ms a token after it, 20 to 200 tokens: a worker that is sent too
# much queues, so how the load is split shows in the numbers.
sim=(--model sim --sim-ttft-ms 20 --sim-tpot-ms 1 --sim-output-len uniform:20:200 --sim-max-concurrency 32)

[ -x "$bin" ] || { echo "no $bin: cargo build --release --bin mlperf-gptoss" >&2; exit 1; }
python3 -c "import sglang_router" 2>/dev/null \
    || { echo "needs the router: pip install sglang-router==0.3.2" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}" $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A worker on a free port; prints its URL. (Called in $(...), a subshell:
# its pid goes to a file for the cleanup.)
start_worker() {
    local log="$work/worker$1.log"
    "$bin" serve --port 0 "${sim[@]}" >"$log" 2>&1 &
    echo $! >>"$work/pids"
    for _ in $(seq 100); do
        grep -q "listening on" "$log" && break
        sleep 0.1
    done
    sed -n 's/^listening on //p' "$log"
}
w1=$(start_worker 1)
w2=$(start_worker 2)

port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
python3 -m sglang_router.launch_router --host 127.0.0.1 --port "$port" --log-level warn \
    --worker-urls "$w1" "$w2" >"$work/router.log" 2>&1 &
pids+=($!)
router="http://127.0.0.1:$port"
for _ in $(seq 300); do
    curl -fs "$router/readiness" 2>/dev/null | grep -q '"healthy_workers":2' && break
    sleep 0.1
done

python3 - "$work/data.jsonl" "$samples" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"input_tokens": [1000 + 7 * t + i for t in range(64)],
                            "dataset": "gpqa_diamond", "id": i}) + "\n")
EOF
cat >"$work/user.conf" <<EOF
*.Offline.min_duration = 0
*.Offline.min_query_count = $samples
*.Server.target_qps = $qps
*.Server.min_duration = 0
*.Server.min_query_count = $samples
EOF

# Generation requests a worker has received so far.
requests() { curl -fs "$1/metrics" | grep '^sglang:num_requests_total' | awk '{print $NF}'; }

# One run; prints "samples/s ttft_p99_ms requests_on_w1/requests_on_w2".
one_run() {
    local scenario=$1; shift
    local out="$work/out" a b
    rm -rf "$out"
    a=$(requests "$w1"); b=$(requests "$w2")
    "$bin" run --backend sglang "$@" --scenario "$scenario" --dataset "$work/data.jsonl" \
        --user-conf "$work/user.conf" --max-new-tokens 200 --output-dir "$out" >/dev/null 2>&1
    python3 - "$out/$scenario/performance" "$scenario" \
        "$(( $(requests "$w1") - a ))/$(( $(requests "$w2") - b ))" <<'EOF'
import json, re, sys
d, scenario, split = sys.argv[1], sys.argv[2], sys.argv[3]
summary = open(f"{d}/mlperf_log_summary.txt").read()
key = "Samples per second" if scenario == "offline" else "Completed samples per second"
rate = float(re.search(rf"^{key}\s*:\s*([0-9.]+)", summary, re.M).group(1))
ttft = json.load(open(f"{d}/results.json"))["ttft"]["p99_ms"]
# Offline does not stream: no TTFT.
print(rate, "-" if scenario == "offline" else ttft, split)
EOF
}

declare -A rate ttft
for rep in $(seq "$reps"); do
    for scenario in offline server; do
        for way in endpoints router; do
            if [ "$way" = endpoints ]; then
                read -r r t split < <(one_run "$scenario" --endpoint "$w1" --endpoint "$w2")
            else
                read -r r t split < <(one_run "$scenario" --endpoint "$router")
            fi
            echo "rep $rep $scenario $way: $r samples/s, TTFT p99 $t ms, requests per worker $split" >&2
            rate[$scenario.$way]="${rate[$scenario.$way]:-} $r"
            ttft[$scenario.$way]="${ttft[$scenario.$way]:-} $t"
        done
    done
done

median() { python3 -c "import statistics, sys; v=[float(x) for x in sys.argv[1:] if x != '-']; print(f'{statistics.median(v):.1f}' if v else '-')" $1; }
ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print('-' if '-' in (a, b) else f'{float(a)/float(b):.2f}')" "$1" "$2"; }
printf '| scenario | way | samples/s | TTFT p99 ms |\n|---|---|---|---|\n'
for scenario in offline server; do
    for way in endpoints router; do
        printf '| %s | %s | %s | %s |\n' "$scenario" "$way" \
            "$(median "${rate[$scenario.$way]}")" "$(median "${ttft[$scenario.$way]}")"
    done
    printf '| %s | router / endpoints | %s | %s |\n' "$scenario" \
        "$(ratio "$(median "${rate[$scenario.router]}")" "$(median "${rate[$scenario.endpoints]}")")" \
        "$(ratio "$(median "${ttft[$scenario.router]}")" "$(median "${ttft[$scenario.endpoints]}")")"
done
