//! Shared by the integration tests: driving the official LoadGen through
//! `py/official_null_sut.py`, and the small QSL and log settings of the
//! in-process runs.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use loadgen::{LogSettings, Mode, QuerySampleLibrary, Scenario, TestSettings};
use serde_json::Value;

/// A QSL of `n` in-memory samples, all of them loadable at once.
pub struct Qsl(pub usize);

impl QuerySampleLibrary for Qsl {
    fn total_sample_count(&self) -> usize {
        self.0
    }
    fn performance_sample_count(&self) -> usize {
        self.0
    }
}

/// Logs in `dir`, without the trace.
pub fn untraced_logs(dir: &std::path::Path) -> LogSettings {
    LogSettings {
        outdir: dir.into(),
        enable_trace: false,
        ..Default::default()
    }
}

pub const PIP_HINT: &str = "the official LoadGen is needed: pip install mlcommons-loadgen==6.0.17";

pub fn script() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/py/official_null_sut.py").to_string()
}

/// Fails (never skips) when python3 or the wheel is missing.
pub fn require_official() {
    let out = Command::new("python3")
        .args(["-c", "import mlperf_loadgen"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {PIP_HINT}"));
    assert!(
        out.status.success(),
        "`import mlperf_loadgen` failed: {}\n{PIP_HINT}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the official LoadGen over `cases` in one Python process.
pub fn run_official(cases: &Value) -> Vec<Value> {
    let mut child = Command::new("python3")
        .arg(script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {PIP_HINT}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(cases.to_string().as_bytes())
        .expect("write cases");
    let out = child.wait_with_output().expect("python3 runs");
    assert!(
        out.status.success(),
        "official LoadGen driver failed ({}):\n{}\n{PIP_HINT}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("driver prints JSON")
}

pub fn scenario(name: &str) -> Scenario {
    match name {
        "Server" => Scenario::Server,
        "Offline" => Scenario::Offline,
        "SingleStream" => Scenario::SingleStream,
        _ => Scenario::MultiStream,
    }
}

pub fn mode(name: &str) -> Mode {
    match name {
        "AccuracyOnly" => Mode::AccuracyOnly,
        "SubmissionRun" => Mode::SubmissionRun,
        _ => Mode::PerformanceOnly,
    }
}

/// Sets a `TestSettings` field by its (LoadGen) name.
pub fn set_field(s: &mut TestSettings, name: &str, v: &Value) {
    let u = || v.as_u64().unwrap_or_else(|| panic!("{name}: {v}"));
    let f = || v.as_f64().unwrap_or_else(|| panic!("{name}: {v}"));
    let b = || v.as_bool().unwrap_or_else(|| v.as_u64() == Some(1));
    match name {
        "min_duration_ms" => s.min_duration_ms = u(),
        "max_duration_ms" => s.max_duration_ms = u(),
        "min_query_count" => s.min_query_count = u(),
        "max_query_count" => s.max_query_count = u(),
        "server_target_qps" => s.server_target_qps = f(),
        "offline_expected_qps" => s.offline_expected_qps = f(),
        "qsl_rng_seed" => s.qsl_rng_seed = u(),
        "sample_index_rng_seed" => s.sample_index_rng_seed = u(),
        "schedule_rng_seed" => s.schedule_rng_seed = u(),
        "sample_concatenate_permutation" => s.sample_concatenate_permutation = b(),
        "performance_issue_unique" => s.performance_issue_unique = b(),
        "performance_issue_same" => s.performance_issue_same = b(),
        "performance_issue_same_index" => s.performance_issue_same_index = u(),
        "performance_sample_count_override" => s.performance_sample_count_override = u(),
        "accuracy_sample_count_override" => s.accuracy_sample_count_override = u(),
        "use_token_latencies" => s.use_token_latencies = b(),
        "server_ttft_latency" => s.server_ttft_latency = u(),
        "server_tpot_latency" => s.server_tpot_latency = u(),
        "server_target_latency_ns" => s.server_target_latency_ns = u(),
        "accuracy_log_rng_seed" => s.accuracy_log_rng_seed = u(),
        "accuracy_log_sampling_target" => s.accuracy_log_sampling_target = u(),
        other => panic!("unknown field {other}"),
    }
}

/// A small deterministic generator for test cases (splitmix64).
pub struct CaseRng(pub u64);

impl CaseRng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
