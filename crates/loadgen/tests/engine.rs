//! The run engine with in-process SUTs: async (tokio) completion, the
//! error conditions and TPOT rules of loadgen.md §7.2, and the files.

use std::time::Duration;

mod common;

use common::{untraced_logs, Qsl};
use loadgen::{
    resolve_settings, start_test, ConfigFiles, LogSettings, Mode, QuerySample, Responder, Scenario,
    SystemUnderTest, TestReport, TestSettings,
};

fn settings(scenario: Scenario, mode: Mode, n: u64) -> loadgen::Resolved {
    let base = TestSettings {
        scenario,
        mode,
        ..Default::default()
    };
    let mut r = resolve_settings(base, "gpt-oss-120b", ConfigFiles::default()).unwrap();
    r.settings.server_target_qps = 20_000.0;
    r.settings.offline_expected_qps = 1.0;
    r.settings.min_duration_ms = 1;
    r.settings.min_query_count = n;
    r.settings.performance_sample_count_override = n;
    r.settings.accuracy_sample_count_override = n;
    r
}

/// Runs `sut` over `n` samples with [`settings`], logs in `dir` without the trace.
fn run_untraced(
    dir: &std::path::Path,
    sut: &dyn SystemUnderTest,
    scenario: Scenario,
    mode: Mode,
    n: u64,
) -> TestReport {
    start_test(
        sut,
        &Qsl(n as usize),
        &settings(scenario, mode, n),
        &untraced_logs(dir),
    )
    .unwrap()
}

/// Hands each sample to a tokio task that answers after a short sleep.
struct TokioSut {
    rt: tokio::runtime::Handle,
}

impl SystemUnderTest for TokioSut {
    fn name(&self) -> String {
        "TokioSUT".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        for s in samples {
            let r = responder.clone();
            self.rt.spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let toks: Vec<u8> = (0..4i32)
                    .flat_map(|t| (t + s.index as i32).to_le_bytes())
                    .collect();
                r.first_token(s.id, &toks[..4]);
                tokio::time::sleep(Duration::from_millis(1)).await;
                r.complete(s.id, &toks, 4);
            });
        }
    }
}

#[test]
fn tokio_sut_server_and_offline() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for scenario in [Scenario::Server, Scenario::Offline] {
        let sut = TokioSut {
            rt: rt.handle().clone(),
        };
        let out = dir.path().join(scenario.as_str());
        let ls = LogSettings {
            outdir: out.clone(),
            ..Default::default()
        };
        let report = start_test(
            &sut,
            &Qsl(40),
            &settings(scenario, Mode::PerformanceOnly, 40),
            &ls,
        )
        .unwrap();
        let perf = report.performance.unwrap();
        assert_eq!(perf.sample_count, 40);
        assert_eq!(perf.token_count, 160);
        assert_eq!(
            report.errors,
            0,
            "{}",
            std::fs::read_to_string(out.join("mlperf_log_detail.txt")).unwrap()
        );
        if scenario == Scenario::Server {
            // TTFT ≥ 1 ms, and TPOT = (e2e − TTFT) / (4 − 1) ≥ 1 ms / 3.
            assert!(perf.first_token.min >= 1_000_000);
            assert!(perf.tpot.min >= 333_333);
        }
        for f in ["summary.txt", "detail.txt", "accuracy.json", "trace.json"] {
            assert!(out.join(format!("mlperf_log_{f}")).exists(), "{f}");
        }
        let detail = std::fs::read_to_string(out.join("mlperf_log_detail.txt")).unwrap();
        assert!(detail.starts_with(":::MLLOG {\"key\": \"loadgen_version\""));
    }
}

/// Reports in the wrong order and with bad token counts.
struct BadSut;

impl SystemUnderTest for BadSut {
    fn name(&self) -> String {
        "BadSUT".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, r: Responder) {
        for s in samples {
            match s.id % 4 {
                // No first token before completion.
                0 => r.complete(s.id, &[], 3),
                // One token: LoadGen stores 0, so TPOT's denominator is −1.
                1 => {
                    r.first_token(s.id, &[1, 0, 0, 0]);
                    std::thread::sleep(Duration::from_micros(200));
                    r.complete(s.id, &[1, 0, 0, 0], 1);
                }
                // Completed twice.
                2 => {
                    r.first_token(s.id, &[1, 0, 0, 0]);
                    r.complete(s.id, &[], 3);
                    r.complete(s.id, &[], 3);
                }
                _ => {
                    r.first_token(s.id, &[1, 0, 0, 0]);
                    r.complete(s.id, &[], 3);
                }
            }
        }
    }
}

#[test]
fn sut_errors_are_logged_as_loadgen_does() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_untraced(
        dir.path(),
        &BadSut,
        Scenario::Server,
        Mode::PerformanceOnly,
        8,
    );
    let detail = std::fs::read_to_string(dir.path().join("mlperf_log_detail.txt")).unwrap();
    for msg in [
        "Attempted to record a sample latency before it's first token latency",
        "Number of tokens need to be greater than 1",
        "Attempted to complete a sample twice.",
    ] {
        assert!(detail.contains(msg), "missing {msg}");
    }
    assert!(report.errors >= 3);
    let perf = report.performance.unwrap();
    assert!(perf.tpot.min < 0, "n_tokens = 1 gives a negative TPOT");
    let summary = std::fs::read_to_string(dir.path().join("mlperf_log_summary.txt")).unwrap();
    assert!(summary.ends_with(&format!(
        "\n{} ERRORS encountered. See detailed log.\n",
        report.errors
    )));
}

#[test]
fn accuracy_mode_logs_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sut = TokioSut {
        rt: rt.handle().clone(),
    };
    let report = run_untraced(dir.path(), &sut, Scenario::Offline, Mode::AccuracyOnly, 30);
    assert!(report.performance.is_none());
    let acc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("mlperf_log_accuracy.json")).unwrap(),
    )
    .unwrap();
    let entries = acc.as_array().unwrap();
    assert_eq!(entries.len(), 30);
    // Offline with token latencies: data and token_count, no token_data.
    assert!(entries[0].get("token_data").is_none());
    assert_eq!(entries[0]["token_count"], 4);
    let hex = entries[0]["data"].as_str().unwrap();
    assert_eq!(hex, hex.to_uppercase());
    let summary = std::fs::read_to_string(dir.path().join("mlperf_log_summary.txt")).unwrap();
    assert_eq!(
        summary,
        "\nNo warnings encountered during test.\n\nNo errors encountered during test.\n"
    );
}
