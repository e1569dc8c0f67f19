//! Conformance with the official LoadGen (mlcommons-loadgen 6.0.17): over
//! randomized settings, what it loads and issues — loaded sets, the
//! indices of every query, the generated counts and durations and the
//! Server schedule to the nanosecond — equals `loadgen::plan`, the code
//! behind `mlperf-gptoss plan`. Needs `pip install mlcommons-loadgen==6.0.17`;
//! fails (does not skip) without it. `LOADGEN_CONFORMANCE_SEED` picks
//! another set of cases.

mod common;

use common::*;
use loadgen::{plan, resolve_settings, ConfigFiles, TestSettings};
use serde_json::{json, Value};

/// Random settings that keep each official run short (Server spans of at
/// most a few hundred ms).
fn random_case(rng: &mut CaseRng, outdir: &str) -> Value {
    let scenario = if rng.chance(55) { "Server" } else { "Offline" };
    let mode = match rng.range(0, 9) {
        0..=5 => "PerformanceOnly",
        6..=8 => "AccuracyOnly",
        _ => "SubmissionRun",
    };
    let total = rng.range(1, 300);
    let perf = if rng.chance(80) {
        rng.range(1, total)
    } else {
        total
    };
    let mut fields = serde_json::Map::new();
    fields.insert("qsl_rng_seed".into(), json!(rng.next()));
    fields.insert("sample_index_rng_seed".into(), json!(rng.next()));
    fields.insert("schedule_rng_seed".into(), json!(rng.next()));
    fields.insert("min_duration_ms".into(), json!(rng.range(0, 60)));
    fields.insert("min_query_count".into(), json!(rng.range(1, 400)));
    fields.insert(
        "server_target_qps".into(),
        json!(rng.range(2000, 20000) as f64 + 0.5),
    );
    fields.insert(
        "offline_expected_qps".into(),
        json!(rng.range(1, 5000) as f64 * 0.75),
    );
    let equal = rng.chance(50);
    fields.insert("sample_concatenate_permutation".into(), json!(equal));
    if rng.chance(15) {
        fields.insert("performance_issue_unique".into(), json!(true));
    }
    if rng.chance(20) {
        fields.insert(
            "accuracy_sample_count_override".into(),
            json!(rng.range(1, total)),
        );
    }
    if rng.chance(15) {
        fields.insert(
            "performance_sample_count_override".into(),
            json!(rng.range(1, total)),
        );
    }
    if rng.chance(25) {
        fields.insert("max_query_count".into(), json!(rng.range(1, 60)));
    }
    json!({"outdir": outdir, "total": total, "perf": perf, "scenario": scenario,
           "mode": mode, "fields": fields, "trace": scenario == "Server"})
}

/// Our side of a case: the same settings, planned.
fn our_plan(case: &Value) -> Result<loadgen::Plan, String> {
    let base = TestSettings {
        scenario: scenario(case["scenario"].as_str().unwrap()),
        mode: mode(case["mode"].as_str().unwrap()),
        ..TestSettings::default()
    };
    let user_conf = case["user_conf"].as_str().map(std::path::Path::new);
    let audit = case["audit_config"].as_str().map(std::path::Path::new);
    let mut s = if user_conf.is_some() || audit.is_some() {
        let model = case["model"].as_str().unwrap_or("gpt-oss-120b");
        let files = ConfigFiles {
            mlperf_conf: None,
            user_conf,
            audit_config: audit,
        };
        // Python applies fields after FromConfig but before the audit
        // config (inside StartTest), so resolve without the audit first.
        let mut s = resolve_settings(
            base,
            model,
            ConfigFiles {
                audit_config: None,
                ..files
            },
        )
        .map_err(|e| e.to_string())?
        .settings;
        for (k, v) in case["fields"].as_object().into_iter().flatten() {
            set_field(&mut s, k, v);
        }
        if let Some(a) = audit {
            let sc = s.scenario.as_str();
            loadgen::ConfigFile::read(a)
                .map_err(|e| e.to_string())?
                .apply(&mut s, "*", sc, loadgen::ConfType::Other);
        }
        s
    } else {
        let mut s = base;
        for (k, v) in case["fields"].as_object().into_iter().flatten() {
            set_field(&mut s, k, v);
        }
        s
    };
    s.test05 = false;
    plan(
        &s,
        case["total"].as_u64().unwrap(),
        case["perf"].as_u64().unwrap(),
    )
    .map_err(|e| e.to_string())
}

fn us_to_ns(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, "000"));
    int.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
}

/// Compares one official result with our plan; returns a description of
/// the first difference.
fn compare(case: &Value, official: &Value) -> Result<(), String> {
    let ours = our_plan(case)?;
    let loaded: Vec<Vec<u64>> = serde_json::from_value(official["loaded_sets"].clone()).unwrap();
    let our_loaded: Vec<Vec<u64>> = ours
        .series
        .iter()
        .map(|s| s.loaded.set.iter().map(|&i| i as u64).collect())
        .collect();
    if loaded != our_loaded {
        return Err(format!(
            "loaded sets differ:\n official {loaded:?}\n ours     {our_loaded:?}"
        ));
    }
    let queries: Vec<Vec<u64>> = serde_json::from_value(official["queries"].clone()).unwrap();
    let our_queries: Vec<Vec<u64>> = ours
        .series
        .iter()
        .flat_map(|s| s.issued_queries().iter())
        .map(|q| q.indices.iter().map(|&i| i as u64).collect())
        .collect();
    if queries != our_queries {
        let at = queries.iter().zip(&our_queries).position(|(a, b)| a != b);
        return Err(format!(
            "issued queries differ ({} official, {} ours; first difference at {at:?})",
            queries.len(),
            our_queries.len()
        ));
    }
    let gen = official["generated"].as_array().unwrap();
    if gen.len() != ours.series.len() {
        return Err(format!(
            "{} series official, {} ours",
            gen.len(),
            ours.series.len()
        ));
    }
    for (g, s) in gen.iter().zip(&ours.series) {
        let want = (
            g["generated_query_count"].as_u64().unwrap(),
            g["generated_samples_per_query"].as_u64().unwrap(),
            g["generated_query_duration"].as_i64().unwrap(),
        );
        let got = (
            s.generated.queries.len() as u64,
            s.generated.samples_per_query,
            s.generated.duration_ns,
        );
        if want != got {
            return Err(format!(
                "generated (count, spq, duration): official {want:?}, ours {got:?}"
            ));
        }
    }
    if case["scenario"] == "Server" {
        let sched: Vec<i64> = official["scheduled_us"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| us_to_ns(v.as_str().unwrap()))
            .collect();
        let mut at = 0;
        for s in &ours.series {
            let n = s.issued;
            let Some(official) = sched.get(at..at + n) else {
                return Err(format!(
                    "trace has {} scheduled queries, fewer than planned",
                    sched.len()
                ));
            };
            for (q, t) in s.issued_queries().iter().zip(official) {
                // The trace gives times from its own origin: compare offsets
                // from the series' first query (µs with 3 decimals = ns).
                if q.scheduled_ns as i64 != t - official[0] {
                    return Err(format!(
                        "schedule differs: ours {} official {}",
                        q.scheduled_ns,
                        t - official[0]
                    ));
                }
            }
            at += n;
        }
    }
    Ok(())
}

#[test]
fn plan_matches_official_loadgen_on_random_settings() {
    require_official();
    let seed = std::env::var("LOADGEN_CONFORMANCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261128);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = CaseRng(seed);
    let mut cases = Vec::new();
    while cases.len() < 40 {
        let c = random_case(
            &mut rng,
            &dir.path()
                .join(format!("case{}", cases.len()))
                .display()
                .to_string(),
        );
        // Skip settings on which the official LoadGen crashes or divides
        // by zero (no queries, or an empty equal-issue list); plan reports
        // those as errors, which `plan_refuses_settings_loadgen_crashes_on` checks.
        if our_plan(&c).is_err() {
            continue;
        }
        cases.push(c);
    }
    let official = run_official(&Value::Array(cases.clone()));
    let mut failures = Vec::new();
    for (i, (c, o)) in cases.iter().zip(&official).enumerate() {
        if let Err(e) = compare(c, o) {
            failures.push(format!("case {i} {c}:\n  {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn config_files_match_official_loadgen() {
    require_official();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // Quirks: `k=v` ignored, wildcard precedence, octal/hex integers, last
    // of several values wins, fixed-scenario keys.
    let user_a = write(
        "a.conf",
        "# comment\n\
         gpt-oss-120b.*.performance_sample_count_override = 0x3C\n\
         gpt-oss-120b.*.accuracy_sample_count_override = 050\n\
         *.Server.target_qps = 9000\n\
         gpt-oss-120b.*.target_qps = 4\n\
         gpt-oss-120b.Server.min_duration=99999\n\
         gpt-oss-120b.Server.min_duration = 20 30\n\
         gpt-oss-120b.Offline.target_qps = 1.5e2\n\
         gpt-oss-120b.Offline.min_duration = 1000\n\
         gpt-oss-120b.*.min_query_count = 1.9e3\n",
    );
    let user_b = write(
        "b.conf",
        "gpt-oss-120b-interactive.*.performance_sample_count_override = 77\n\
         gpt-oss-120b-interactive.*.accuracy_sample_count_override = 33\n\
         *.*.target_qps = 12000\n\
         gpt-oss-120b-interactive.Server.min_duration = 15\n",
    );
    let audit = write(
        "audit.config",
        "*.*.mode = 2\n*.*.min_query_count = 60\n*.*.min_duration = 0\n\
         *.*.performance_issue_unique = 1\n*.*.sample_concatenate_permutation = 0\n\
         gpt-oss-120b.*.min_query_count = 5\n*.*.test09_min_output_tokens = 1150.38\n",
    );
    let user_c = write(
        "c.conf",
        "gpt-oss-120b.*.performance_sample_count_override = 60\n*.Server.target_qps = 15000\n",
    );
    let bad = write("bad.conf", "gpt-oss-120b.*.performance_sample_count_override = 50 # inline\n*.Server.target_qps = 15000\n");
    let out = |n: &str| dir.path().join(n).display().to_string();
    let cases = [
        json!({"outdir": out("o1"), "total": 200, "perf": 200, "scenario": "Server", "mode": "PerformanceOnly", "model": "gpt-oss-120b", "user_conf": user_a}),
        json!({"outdir": out("o2"), "total": 200, "perf": 200, "scenario": "Offline", "mode": "SubmissionRun", "model": "gpt-oss-120b", "user_conf": user_a}),
        json!({"outdir": out("o3"), "total": 100, "perf": 100, "scenario": "Server", "mode": "SubmissionRun", "model": "gpt-oss-120b-interactive", "user_conf": user_b}),
        json!({"outdir": out("o4"), "total": 60, "perf": 60, "scenario": "Server", "mode": "AccuracyOnly", "model": "gpt-oss-120b", "user_conf": user_c, "audit_config": audit}),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        // One process per case: mlperf.conf applies at the first user.conf only.
        let o = run_official(&Value::Array(vec![c.clone()]));
        if let Err(e) = compare(c, &o[0]) {
            failures.push(format!("{c}:\n  {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A file with an error is refused here (LoadGen logs it and ignores the file).
    let err = resolve_settings(
        TestSettings::default(),
        "gpt-oss-120b",
        ConfigFiles {
            user_conf: Some(std::path::Path::new(&bad)),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("bad.conf:1"), "{err}");
}
