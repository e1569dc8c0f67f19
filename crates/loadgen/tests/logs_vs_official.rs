//! The official LoadGen and ours, run on the same settings with the same
//! scripted SUT (fixed per-sample delays), write summary files that differ
//! only in timing-derived numbers; the detail logs carry the same keys in
//! the same order, with equal values for everything not timing-derived;
//! accuracy logs hold the same entries. Needs
//! `pip install mlcommons-loadgen==6.0.17`.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::*;
use loadgen::{resolve_settings, ConfigFiles, Mode, Resolved, Scenario, TestSettings};
use loadgen::{start_test, LogSettings};
use loadgen::{QuerySample, QuerySampleLibrary, Responder, SystemUnderTest};
use serde_json::json;

const FIRST_TOKEN: Duration = Duration::from_millis(2);
const COMPLETE: Duration = Duration::from_millis(6);
const N_TOKENS: i64 = 5;

/// The same token ids as `official_null_sut.py`'s `tokens_for`.
fn tokens_for(index: usize, n: i64) -> Vec<u8> {
    (0..n as usize)
        .flat_map(|k| (((index * 7 + k) % 50000) as i32).to_le_bytes())
        .collect()
}

/// Answers each query on its own thread after fixed delays, like the
/// Python driver's delayed mode.
struct ScriptedSut {
    offline: bool,
}

impl SystemUnderTest for ScriptedSut {
    fn name(&self) -> String {
        "PySUT".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        let offline = self.offline;
        std::thread::spawn(move || {
            for s in samples {
                let toks = tokens_for(s.index, N_TOKENS);
                std::thread::sleep(FIRST_TOKEN);
                if !offline {
                    responder.first_token(s.id, &toks[..4]);
                }
                std::thread::sleep(COMPLETE - FIRST_TOKEN);
                responder.complete(s.id, &toks, N_TOKENS);
            }
        });
    }
}

struct Qsl(usize);

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> String {
        "PyQSL".into()
    }
    fn total_sample_count(&self) -> usize {
        self.0
    }
    fn performance_sample_count(&self) -> usize {
        self.0
    }
}

/// Labels whose numbers come from measured times.
fn timing_line(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    !l.starts_with("scheduled samples per second")
        && (l.contains("latency (ns)") || l.contains("per second") || l.contains("output token"))
}

fn compare_summaries(official: &str, ours: &str) -> Result<(), String> {
    let a: Vec<&str> = official.lines().collect();
    let b: Vec<&str> = ours.lines().collect();
    if a.len() != b.len() {
        return Err(format!(
            "{} lines official, {} ours\n--- official\n{official}\n--- ours\n{ours}",
            a.len(),
            b.len()
        ));
    }
    for (x, y) in a.iter().zip(&b) {
        if x == y {
            continue;
        }
        let label = |s: &str| s.split(':').next().unwrap_or("").to_string();
        if !(timing_line(x) && label(x) == label(y)) {
            return Err(format!("line differs:\n official: {x:?}\n ours:     {y:?}"));
        }
    }
    Ok(())
}

/// (key, value) pairs of a detail log.
fn detail_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l.strip_prefix(":::MLLOG ")?).ok()?;
            Some((v["key"].as_str()?.to_string(), v["value"].to_string()))
        })
        .collect()
}

fn compare_details(official: &str, ours: &str) -> Result<(), String> {
    let a = detail_pairs(official);
    let b = detail_pairs(ours);
    let keys_a: Vec<&str> = a.iter().map(|p| p.0.as_str()).collect();
    let keys_b: Vec<&str> = b.iter().map(|p| p.0.as_str()).collect();
    if keys_a != keys_b {
        return Err(format!(
            "detail keys differ:\n official {keys_a:?}\n ours     {keys_b:?}"
        ));
    }
    // Timing-derived or build-identity values.
    let free: HashSet<&str> = [
        "loadgen_version",
        "loadgen_build_date_local",
        "loadgen_build_date_utc",
        "loadgen_git_commit_date",
        "loadgen_git_log_message",
        "loadgen_git_status_message",
        "loadgen_file_sha1",
        "test_datetime",
        "get_sut_name_duration_ns",
        "power_begin",
        "power_end",
        "result_completed_samples_per_sec",
        "result_samples_per_second",
        "result_tokens_per_second",
        "result_completed_tokens_per_second",
        "result_token_throughput",
        "result_token_throughput_with_loadgen_overhead",
    ]
    .into_iter()
    .collect();
    for ((k, x), (_, y)) in a.iter().zip(&b) {
        let timing = free.contains(k.as_str())
            || k.contains("latency_ns")
            || k.contains("time_per_output_token")
            || k.contains("time_to_output_token");
        if x != y && !timing {
            return Err(format!(
                "detail value of {k} differs: official {x}, ours {y}"
            ));
        }
    }
    Ok(())
}

/// gpt-oss-120b settings for `scenario` and `mode` after `user_conf` (and an audit.config).
fn resolve(
    scenario: Scenario,
    mode: Mode,
    user_conf: &Path,
    audit_config: Option<&Path>,
) -> Result<Resolved, loadgen::ConfigError> {
    let base = TestSettings {
        scenario,
        mode,
        ..TestSettings::default()
    };
    resolve_settings(
        base,
        "gpt-oss-120b",
        ConfigFiles {
            user_conf: Some(user_conf),
            audit_config,
            ..Default::default()
        },
    )
}

fn run_both(
    scenario: &str,
    mode: &str,
    user_conf: &str,
    audit: Option<&str>,
    total: usize,
    dir: &Path,
) -> Result<(), String> {
    let tag = format!(
        "{scenario}-{mode}{}",
        if audit.is_some() { "-audit" } else { "" }
    );
    let conf = dir.join(format!("{tag}.conf"));
    std::fs::write(&conf, user_conf).unwrap();
    let audit_path = audit.map(|text| {
        let p = dir.join(format!("{tag}-audit.config"));
        std::fs::write(&p, text).unwrap();
        p
    });
    let official_dir = dir.join(format!("official-{tag}"));
    let ours_dir = dir.join(format!("ours-{tag}"));
    let case = json!({
        "outdir": official_dir.display().to_string(), "total": total, "perf": total,
        "scenario": scenario, "mode": mode, "model": "gpt-oss-120b",
        "user_conf": conf.display().to_string(), "trace": false,
        "audit_config": audit_path.as_ref().map(|p| p.display().to_string()),
        "delays": {"first_token_ns": FIRST_TOKEN.as_nanos() as u64, "complete_ns": COMPLETE.as_nanos() as u64, "n_tokens": N_TOKENS},
    });
    run_official(&serde_json::Value::Array(vec![case]));

    let resolved = resolve(
        common::scenario(scenario),
        common::mode(mode),
        &conf,
        audit_path.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let sut = ScriptedSut {
        offline: base_offline(scenario),
    };
    let ls = LogSettings {
        outdir: ours_dir.clone(),
        enable_trace: false,
        ..Default::default()
    };
    let report = start_test(&sut, &Qsl(total), &resolved, &ls).map_err(|e| e.to_string())?;

    let read = |d: &Path, f: &str| {
        std::fs::read_to_string(d.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", d.display()))
    };
    // The report carries the verdict the official LoadGen logged for the
    // same run (none without a performance series).
    let official_verdict = detail_pairs(&read(&official_dir, "mlperf_log_detail.txt"))
        .into_iter()
        .find(|(key, _)| key == "result_validity")
        .map(|(_, value)| value == "\"VALID\"");
    if report.result_valid != official_verdict {
        return Err(format!(
            "{tag}: result_valid {:?}, the official detail log says {official_verdict:?}",
            report.result_valid
        ));
    }
    compare_summaries(
        &read(&official_dir, "mlperf_log_summary.txt"),
        &read(&ours_dir, "mlperf_log_summary.txt"),
    )
    .map_err(|e| format!("{scenario} {mode} summary: {e}"))?;
    compare_details(
        &read(&official_dir, "mlperf_log_detail.txt"),
        &read(&ours_dir, "mlperf_log_detail.txt"),
    )
    .map_err(|e| format!("{scenario} {mode} detail: {e}"))?;
    let acc = |d: &Path| {
        let v: serde_json::Value = serde_json::from_str(&read(d, "mlperf_log_accuracy.json"))
            .expect("accuracy log is JSON");
        let mut entries: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.to_string())
            .collect();
        entries.sort();
        entries
    };
    let (a, b) = (acc(&official_dir), acc(&ours_dir));
    if a != b {
        return Err(format!(
            "{tag}: accuracy log entries differ ({} official, {} ours)",
            a.len(),
            b.len()
        ));
    }
    if audit.is_some() && a.is_empty() {
        return Err(format!("{tag}: expected sampled accuracy entries"));
    }
    let raw = read(&ours_dir, "mlperf_log_accuracy.json");
    assert!(
        raw.starts_with("[\n{ \"seq_id\" : ") || raw == "[\n]\n",
        "accuracy log layout: {raw:.80}"
    );
    Ok(())
}

fn base_offline(s: &str) -> bool {
    s == "Offline"
}

#[test]
fn summaries_match_official_loadgen() {
    require_official();
    // LOADGEN_KEEP_LOGS=DIR keeps both sets of logs for inspection.
    let tmp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("LOADGEN_KEEP_LOGS").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(tmp.path());
    let server_conf = "gpt-oss-120b.*.performance_sample_count_override = 60\n\
                       gpt-oss-120b.*.accuracy_sample_count_override = 40\n\
                       gpt-oss-120b.Server.target_qps = 2000\n\
                       gpt-oss-120b.Server.min_duration = 300\n";
    let offline_conf = "gpt-oss-120b.*.performance_sample_count_override = 60\n\
                        gpt-oss-120b.Offline.target_qps = 200\n\
                        gpt-oss-120b.Offline.min_duration = 100\n";
    let mut failures = Vec::new();
    // Accuracy-log sampling in a performance run (TEST-style audit.config):
    // which samples are logged depends on LoadGen's default-seeded mt19937
    // and the accuracy_log_rng_seed offset.
    let sampling =
        "*.*.accuracy_log_rng_seed = 720381539243781796\n*.*.accuracy_log_sampling_target = 30\n";
    for (scenario, mode, conf, audit) in [
        ("Server", "PerformanceOnly", server_conf, None),
        ("Offline", "PerformanceOnly", offline_conf, None),
        ("Server", "AccuracyOnly", server_conf, None),
        ("Offline", "AccuracyOnly", offline_conf, None),
        ("Server", "SubmissionRun", server_conf, None),
        ("Server", "PerformanceOnly", server_conf, Some(sampling)),
    ] {
        if let Err(e) = run_both(scenario, mode, conf, audit, 100, dir) {
            failures.push(e);
        }
    }
    let _ = (Mode::PerformanceOnly, Scenario::Server);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Our statistics on the official run's own measurements: the official
/// trace gives every sample's e2e latency (`complete_ns`) and TTFT
/// (`issue_delay + issue_to_done` of its `Token_Latency` event); fed to
/// `PerformanceSummary`, they must reproduce every latency, TTFT and TPOT
/// line of the official summary exactly (integer means, truncated
/// percentile indices, TPOT by integer division).
#[test]
fn statistics_match_official_on_its_measurements() {
    require_official();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("user.conf");
    std::fs::write(
        &conf,
        "gpt-oss-120b.*.performance_sample_count_override = 60\n\
         gpt-oss-120b.Server.target_qps = 1500\n\
         gpt-oss-120b.Server.min_duration = 300\n",
    )
    .unwrap();
    let out = dir.path().join("official");
    let case = json!({
        "outdir": out.display().to_string(), "total": 100, "perf": 100,
        "scenario": "Server", "mode": "PerformanceOnly", "model": "gpt-oss-120b",
        "user_conf": conf.display().to_string(), "trace": true,
        "delays": {"first_token_ns": FIRST_TOKEN.as_nanos() as u64, "complete_ns": COMPLETE.as_nanos() as u64, "n_tokens": N_TOKENS},
    });
    run_official(&serde_json::Value::Array(vec![case]));
    let trace = std::fs::read_to_string(out.join("mlperf_log_trace.json")).unwrap();
    let field = |line: &str, name: &str| -> Option<String> {
        let at = line.find(&format!("\"{name}\":"))? + name.len() + 3;
        let rest = line[at..].trim_start();
        Some(
            rest.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                .collect(),
        )
    };
    // Keyed by the query's scheduled time (unique in Server).
    let mut e2e = std::collections::BTreeMap::new();
    let mut ttft = std::collections::BTreeMap::new();
    for line in trace.lines() {
        if line.contains("\"name\":\"Sample\"") && line.contains("\"ph\":\"b\"") {
            let ts = field(line, "ts").unwrap();
            e2e.insert(
                ts,
                field(line, "complete_ns").unwrap().parse::<i64>().unwrap(),
            );
        } else if line.contains("\"name\":\"Token_Latency\"") {
            let ts = field(line, "ts").unwrap();
            let a: i64 = field(line, "issue_delay").unwrap().parse().unwrap();
            let b: i64 = field(line, "issue_to_done").unwrap().parse().unwrap();
            ttft.insert(ts, a + b);
        }
    }
    assert!(
        e2e.len() >= 459 && e2e.len() == ttft.len(),
        "{} samples, {} first tokens",
        e2e.len(),
        ttft.len()
    );
    let mut pr = loadgen::PerformanceResult {
        queries_issued: e2e.len() as u64,
        ..Default::default()
    };
    for (ts, lat) in &e2e {
        let t = ttft[ts];
        pr.sample_latencies.push(*lat);
        pr.first_token_latencies.push(t);
        pr.time_per_output_token.push((lat - t) / (N_TOKENS - 1));
        pr.tokens_per_sample.push(N_TOKENS);
    }
    let resolved = resolve(Scenario::Server, Mode::PerformanceOnly, &conf, None).unwrap();
    let eff = loadgen::EffectiveSettings::new(&resolved.settings, 100, 100);
    let ours = loadgen::__private::write_summary(&loadgen::PerformanceSummary::new(
        "PySUT".into(),
        eff,
        pr,
    ));
    let official = std::fs::read_to_string(out.join("mlperf_log_summary.txt")).unwrap();
    let stat_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("(ns)") && !l.contains("_latency (ns):"))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (stat_lines(&official), stat_lines(&ours));
    assert_eq!(a.len(), 27, "{official}");
    assert_eq!(a, b);
    // Early-stopping texts depend only on counts over the thresholds.
    for label in ["TTFT Early Stopping Result:", "TPOT Early Stopping Result:"] {
        let next = |t: &str| {
            t.lines()
                .skip_while(|l| *l != label)
                .nth(1)
                .map(str::to_string)
        };
        assert_eq!(next(&official), next(&ours), "{label}");
    }
}
