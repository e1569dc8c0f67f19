//! Issue-rate and schedule-lateness benchmark: our engine with a null SUT
//! against the official LoadGen wheel with a Python null SUT, same
//! settings, same machine, same run.
//!
//! `cargo bench -p loadgen --bench issue [-- DURATION_MS [QPS ...]]`
//! (defaults: 2000 ms at 1000, 10000 and 100000 QPS, and a max-rate run).
//! Needs `pip install mlcommons-loadgen==6.0.17` for the official column.

use std::process::Command;

use loadgen::{start_test, LogSettings};
use loadgen::{Mode, Resolved, Scenario, TestSettings};
use loadgen::{QuerySample, QuerySampleLibrary, Responder, SystemUnderTest};

struct NullSut;

impl SystemUnderTest for NullSut {
    fn name(&self) -> String {
        "NullSUT".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        let toks = [1u8, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0];
        for s in samples {
            responder.first_token(s.id, &toks[..4]);
            responder.complete(s.id, &toks, 3);
        }
    }
}

struct Qsl;

impl QuerySampleLibrary for Qsl {
    fn total_sample_count(&self) -> usize {
        1000
    }
    fn performance_sample_count(&self) -> usize {
        1000
    }
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ours(qps: f64, duration_ms: u64, dir: &std::path::Path) -> String {
    let settings = TestSettings {
        scenario: Scenario::Server,
        mode: Mode::PerformanceOnly,
        server_target_qps: qps,
        min_duration_ms: duration_ms,
        min_query_count: 1,
        use_token_latencies: true,
        qsl_rng_seed: 1,
        sample_index_rng_seed: 2,
        schedule_rng_seed: 3,
        ..TestSettings::default()
    };
    let resolved = Resolved {
        settings,
        audit_applied: false,
        config_errors: vec![],
    };
    let ls = LogSettings {
        outdir: dir.to_path_buf(),
        enable_trace: false,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let report = start_test(&NullSut, &Qsl, &resolved, &ls).expect("run");
    let wall = t0.elapsed().as_secs_f64();
    let mut lat = report.issue_lateness_ns.clone();
    lat.sort_unstable();
    let perf = report.performance.expect("performance result");
    let span = perf.pr.final_query_issued_time;
    format!(
        "{{\"impl\": \"mlperf-gptoss loadgen\", \"qps\": {qps}, \"queries\": {}, \"issue_rate_qps\": {:.0}, \"lateness_p50_ns\": {}, \"lateness_p99_ns\": {}, \"lateness_max_ns\": {}, \"wall_s\": {wall:.2}}}",
        lat.len(),
        lat.len() as f64 / span.max(1e-9),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    )
}

fn official(qps: f64, duration_ms: u64, dir: &std::path::Path) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/bench_official.py");
    match Command::new("python3")
        .arg(script)
        .arg(qps.to_string())
        .arg(duration_ms.to_string())
        .arg(dir)
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => format!(
            "{{\"impl\": \"official\", \"error\": {:?}}}",
            format!(
                "{} (pip install mlcommons-loadgen==6.0.17)",
                String::from_utf8_lossy(&o.stderr).trim()
            )
        ),
        Err(e) => format!("{{\"impl\": \"official\", \"error\": \"python3: {e}\"}}"),
    }
}

/// Command line of the benchmark (after `cargo bench -p loadgen --bench issue --`).
#[derive(clap::Parser)]
struct Args {
    /// Schedule length of each run, in ms.
    #[arg(default_value_t = 2000)]
    duration_ms: u64,
    /// Target rates to run [default: 1000, 10000 and 100000 QPS, then a max-rate run].
    qps: Vec<f64>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let duration_ms = args.duration_ms;
    let mut runs: Vec<(f64, u64)> = args.qps.iter().map(|&q| (q, duration_ms)).collect();
    if runs.is_empty() {
        // The last run asks for 10M QPS for 1/100 of the time: the
        // schedule outruns both implementations, so it measures the
        // maximum issue rate with a null SUT.
        runs = vec![
            (1_000.0, duration_ms),
            (10_000.0, duration_ms),
            (100_000.0, duration_ms),
            (10_000_000.0, duration_ms / 100),
        ];
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (qps, ms) in runs {
        let d = dir.path().join(format!("q{qps}"));
        println!("{}", ours(qps, ms, &d.join("ours")));
        println!("{}", official(qps, ms, &d.join("official")));
    }
}
