//! How long `report` takes on a run of the submission checker's minimum size,
//! and how large the page is: a Server run of 270,336 queries is synthesised
//! (samples.jsonl and a detail log), then read and rendered `--repeat` times.
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
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        let run = report::Run::read(dir.path())?;
        let html = report::render(&[run])?;
        std::fs::write(dir.path().join("report.html"), &html)?;
        times.push(start.elapsed().as_secs_f64());
        size = html.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "report of {} queries: {:.2} s (median of {}; min {:.2} s), {:.2} MB",
        args.samples,
        times[times.len() / 2],
        times.len(),
        times[0],
        size as f64 / 1e6
    );
    Ok(())
}
