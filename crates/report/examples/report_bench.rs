//! How long `report` takes on a run of the submission checker's minimum size,
//! and how large the page is: a Server run of 270,336 queries is synthesised
//! (samples.jsonl and a detail log), then read and rendered `--repeat` times;
//! then the same with the telemetry such a run leaves (8 GPUs' watts at
//! 10 Hz, one server scraped every second, `energy` in results.json), side by side.
//!
//! ```text
//! cargo run --release -p report --example report_bench -- --samples 270336
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Queries in the synthesised Server run (270,336: the checker's minimum for Server).
    #[arg(long, default_value_t = 270_336)]
    samples: usize,
    /// Target QPS of the synthesised schedule.
    #[arg(long, default_value_t = 450.0)]
    qps: f64,
    /// Renders timed.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
}

/// A small deterministic generator (splitmix64), so every run synthesises the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next()).ln()
    }
}

fn mllog(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(
        out,
        ":::MLLOG {{\"key\": \"{key}\", \"value\": {value}, \"time_ms\": 0.000000, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {{\"is_error\": false, \"is_warning\": false, \"file\": \"bench\", \"line_no\": 0, \"pid\": 1, \"tid\": 1}}}}"
    );
}

fn synthesise(dir: &Path, n: usize, qps: f64) -> std::io::Result<()> {
    let mut rng = Rng(42);
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("samples.jsonl"))?);
    let mut t = 0.0f64;
    for id in 0..n {
        t += rng.exp(1.0 / qps);
        let scheduled = (t * 1e9) as u64;
        let issued = scheduled + (rng.exp(20e3)) as u64;
        let sent = issued + (rng.exp(5e3)) as u64;
        let first = sent + (rng.exp(0.4) * 1e9) as u64;
        let tokens = (rng.exp(1278.0) as usize).clamp(1, 10240);
        let done = first + (tokens as u64 - 1) * (0.02e9 + rng.next() * 0.04e9) as u64;
        let failed = id % 5000 == 4999;
        writeln!(
            file,
            "{}",
            serde_json::json!({
                "id": id, "index": id % 6396, "scheduled_ns": scheduled, "issued_ns": issued,
                "sent_ns": sent, "first_token_ns": (!failed).then_some(first), "done_ns": done,
                "prompt_tokens": 900, "output_tokens": if failed { 0 } else { tokens },
                "finish_reason": (!failed).then_some(if tokens == 10240 { "length" } else { "stop" }),
                "error": failed.then_some("HTTP 503 from http://127.0.0.1:30000/generate: overloaded"),
            })
        )?;
    }
    file.flush()?;
    let mut detail = String::new();
    for (k, v) in [
        ("loadgen_version", "\"6.0.17 @ synthetic\""),
        ("effective_scenario", "\"Server\""),
        ("effective_test_mode", "\"PerformanceOnly\""),
        ("effective_target_qps", &qps.to_string()),
        ("effective_target_latency_percentile", "0.99"),
        ("requested_use_token_latencies", "true"),
        ("requested_server_ttft_latency", "3000000000"),
        ("requested_server_tpot_latency", "80000000"),
        ("result_validity", "\"VALID\""),
        ("result_query_count", &n.to_string()),
    ] {
        mllog(&mut detail, k, v);
    }
    std::fs::write(dir.join("mlperf_log_detail.txt"), detail)
}

/// `power.jsonl` (8 GPUs at 10 Hz), `server_metrics.jsonl` (one page a
/// second, a gap every 100th) and `results.json` with an `energy`, over `end_s`.
fn synthesise_telemetry(dir: &Path, end_s: f64) -> std::io::Result<()> {
    let mut rng = Rng(7);
    let mut power = std::io::BufWriter::new(std::fs::File::create(dir.join("power.jsonl"))?);
    for k in 0..(end_s * 10.0) as u64 {
        let watts: serde_json::Map<String, serde_json::Value> = (0..8)
            .map(|g| (g.to_string(), serde_json::json!(300.0 + 400.0 * rng.next())))
            .collect();
        writeln!(
            power,
            "{}",
            serde_json::json!({"t_ns": k * 100_000_000, "watts": watts})
        )?;
    }
    power.flush()?;
    let mut pages =
        std::io::BufWriter::new(std::fs::File::create(dir.join("server_metrics.jsonl"))?);
    for k in 0..end_s as u64 {
        let url = "http://127.0.0.1:30000/metrics";
        let line = if k % 100 == 99 {
            serde_json::json!({"t_ns": k * 1_000_000_000, "url": url, "gap": "no answer within 1s"})
        } else {
            serde_json::json!({"t_ns": k * 1_000_000_000, "url": url, "server": "sglang",
                "scrape_ms": 2.0, "metrics": {"running": 400.0 * rng.next(),
                "queued": 50.0 * rng.next(), "kv_usage": rng.next(), "gen_tokens_per_s": 9000.0}})
        };
        writeln!(pages, "{line}")?;
    }
    pages.flush()?;
    let energy = serde_json::json!({"energy": {"source": "nvml", "window_s": end_s,
        "joules": 4000.0 * end_s, "avg_watts": 4000.0, "peak_watts": 5600.0,
        "joules_per_output_token": 0.2, "tokens_per_s_per_kw": 5000.0,
        "gpus": (0..8).map(|g| serde_json::json!({"gpu": g.to_string(), "joules": 500.0 * end_s,
            "avg_watts": 500.0, "peak_watts": 700.0})).collect::<Vec<_>>()}});
    std::fs::write(dir.join("results.json"), energy.to_string())
}

/// Reads and renders `dir` `repeat` times: the median and least seconds, and the page's MB.
fn time_report(dir: &Path, repeat: usize) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let run = report::Run::read(dir)?;
        let html = report::render(&[run])?;
        std::fs::write(dir.join("report.html"), &html)?;
        times.push(start.elapsed().as_secs_f64());
        size = html.len();
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0], size as f64 / 1e6))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    synthesise(dir.path(), args.samples, args.qps)?;
    let input = std::fs::metadata(dir.path().join("samples.jsonl"))?.len();
    println!(
        "synthesised {} queries ({:.1} MB of samples.jsonl)",
        args.samples,
        input as f64 / 1e6
    );
    let (median, least, mb) = time_report(dir.path(), args.repeat)?;
    println!(
        "report of {} queries: {median:.2} s (median of {}; min {least:.2} s), {mb:.2} MB",
        args.samples, args.repeat
    );
    let text = std::fs::read_to_string(dir.path().join("samples.jsonl"))?;
    let end_s = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["done_ns"].as_u64())
        .max()
        .unwrap_or(0) as f64
        / 1e9;
    synthesise_telemetry(dir.path(), end_s)?;
    let (t_median, t_least, t_mb) = time_report(dir.path(), args.repeat)?;
    println!(
        "with telemetry ({:.0} s: {} power readings of 8 GPUs, {} scrapes): {t_median:.2} s \
         (min {t_least:.2} s), {t_mb:.2} MB; ratios {:.2}x time, {:.2}x size",
        end_s,
        (end_s * 10.0) as u64,
        end_s as u64,
        t_median / median,
        t_mb / mb
    );
    Ok(())
}
