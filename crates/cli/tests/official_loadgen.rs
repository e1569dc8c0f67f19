//! The official LoadGen against the native one: both drive the same SUT
//! against the same `serve --model sim` on loopback, and everything that
//! does not depend on timing must be equal: every detail-log key apart from
//! timings and the version records, the loaded sample set, the issue order
//! (accuracy log and `samples.jsonl`), the accuracy log itself and the
//! Server schedule as far as the logs show it (query count and duration).
//! A difference is a native-LoadGen bug.
//!
//! Needs the `official-loadgen` feature (and so the official sources):
//! `eval "$(scripts/fetch-official-loadgen.sh)"; cargo test -p cli --features official-loadgen --test official_loadgen`.
#![cfg(feature = "official-loadgen")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{mlperf_gptoss, stderr, Server};
use serde_json::Value as Json;

/// Keys whose values depend on time, the machine or the LoadGen build.
fn timing_or_version(key: &str) -> bool {
    const EXACT: [&str; 6] = [
        "test_datetime",
        "get_sut_name_duration_ns",
        "power_begin",
        "power_end",
        "generic_message",
        "num_warnings",
    ];
    EXACT.contains(&key)
        || key.starts_with("loadgen_")
        || key.starts_with("logger_")
        || (key.starts_with("result_") && key != "result_query_count")
        || key.starts_with("early_stopping_")
}

/// Each key's first value (as the submission checker indexes them), and
/// the keys in order of first appearance.
fn detail(dir: &Path) -> BTreeMap<String, Json> {
    let text = std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).unwrap();
    let mut keys = BTreeMap::new();
    for line in text.lines() {
        let entry: Json = serde_json::from_str(line.strip_prefix(":::MLLOG ").unwrap()).unwrap();
        let key = entry["key"].as_str().unwrap().to_string();
        keys.entry(key).or_insert(entry["value"].clone());
    }
    keys
}

/// The detail log's `is_error` entries, as `key: value`.
fn logged_errors(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Json>(l.strip_prefix(":::MLLOG ").unwrap()).unwrap())
        .filter(|e| e["metadata"]["is_error"] == true)
        .map(|e| format!("{}: {}", e["key"], e["value"]))
        .collect()
}

/// `mlperf_log_accuracy.json` by seq_id: (qsl_idx, data, token_count).
fn accuracy(dir: &Path) -> BTreeMap<u64, (u64, String, Json)> {
    let log: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mlperf_log_accuracy.json")).unwrap(),
    )
    .unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq_id"].as_u64().unwrap(),
                (
                    e["qsl_idx"].as_u64().unwrap(),
                    e["data"].as_str().unwrap().to_string(),
                    e["token_count"].clone(),
                ),
            )
        })
        .collect()
}

/// The QSL indices in the order the SUT received them: by issue time, then
/// by position in the query (ids grow within a query in both LoadGens).
fn issue_order(dir: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(dir.join("samples.jsonl")).unwrap();
    let mut records: Vec<(u64, u64, u64)> = text
        .lines()
        .map(|l| {
            let r: Json = serde_json::from_str(l).unwrap();
            (
                r["issued_ns"].as_u64().unwrap(),
                r["id"].as_u64().unwrap(),
                r["index"].as_u64().unwrap(),
            )
        })
        .collect();
    records.sort();
    records.into_iter().map(|(_, _, index)| index).collect()
}

/// A harmonized dataset of `n` distinct short prompts.
fn write_dataset(dir: &Path, n: usize) -> String {
    let lines: String = (0..n)
        .map(|i| {
            let ids: Vec<u32> = (0..12u32).map(|t| 1000 + 7 * t + 13 * i as u32).collect();
            format!(
                "{}\n",
                serde_json::json!({"input_tokens": ids, "dataset": "gpqa_diamond"})
            )
        })
        .collect();
    let path = dir.join(format!("data-{n}.jsonl"));
    std::fs::write(&path, lines).unwrap();
    path.display().to_string()
}

struct Case {
    name: &'static str,
    scenario: &'static str,
    mode: &'static str,
    samples: usize,
    user_conf: String,
    audit_config: Option<&'static str>,
}

/// Runs `case` with `loadgen`; returns the log folder.
fn run(dir: &Path, url: &str, case: &Case, loadgen: &str) -> PathBuf {
    let output = run_output(dir, url, case, loadgen);
    assert!(
        output.status.success(),
        "{} with the {loadgen} LoadGen: {}",
        case.name,
        stderr(&output)
    );
    let version = if loadgen == "official" {
        "official LoadGen 6.0.17 @ d6147c7eb7"
    } else {
        "native"
    };
    assert!(stderr(&output).contains(version), "{}", stderr(&output));
    let logs = dir
        .join(format!("out-{}-{loadgen}", case.name))
        .join(case.scenario)
        .join(case.mode);
    let results = results_json(&logs);
    // results.json carries the verdict the LoadGen logged, whichever ran.
    let validity = detail(&logs)
        .get("result_validity")
        .map(|v| Json::Bool(v == "VALID"))
        .unwrap_or(Json::Null);
    assert_eq!(
        results["loadgen"]["result_valid"], validity,
        "{} with the {loadgen} LoadGen",
        case.name
    );
    assert!(
        results["loadgen"]["version"]
            .as_str()
            .unwrap()
            .contains(version),
        "{results}"
    );
    logs
}

fn results_json(logs: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(logs.join("results.json")).unwrap()).unwrap()
}

/// `mlperf-gptoss run --loadgen <loadgen>` for `case`, as a process of its own.
fn run_output(dir: &Path, url: &str, case: &Case, loadgen: &str) -> std::process::Output {
    let data = write_dataset(dir, case.samples);
    let conf = dir.join(format!("{}.user.conf", case.name));
    std::fs::write(&conf, &case.user_conf).unwrap();
    let out = format!("out-{}-{loadgen}", case.name);
    let mut args = vec![
        "run",
        "--loadgen",
        loadgen,
        "--backend",
        "sglang",
        "--endpoint",
        url,
        "--scenario",
        case.scenario,
        "--mode",
        case.mode,
        "--dataset",
        &data,
        "--max-new-tokens",
        "9",
        "--output-dir",
        &out,
    ];
    let conf = conf.display().to_string();
    args.extend(["--user-conf", &conf]);
    let audit = dir.join(format!("{}.audit.config", case.name));
    let audit = audit.display().to_string();
    if let Some(text) = case.audit_config {
        std::fs::write(&audit, text).unwrap();
        args.extend(["--audit-config", &audit]);
    }
    mlperf_gptoss(dir, dir, &args)
}

fn compare(case: &Case, native: &Path, official: &Path) {
    let (n, o) = (detail(native), detail(official));
    let keys = |m: &BTreeMap<String, Json>| -> Vec<String> {
        m.keys()
            .filter(|k| !timing_or_version(k))
            .cloned()
            .collect()
    };
    assert_eq!(keys(&n), keys(&o), "{}: detail-log keys", case.name);
    assert!(keys(&o).len() > 50, "{}: {:?}", case.name, keys(&o));
    assert!(o.contains_key("loaded_qsl_set"), "{}", case.name);
    assert!(!issue_order(official).is_empty(), "{}", case.name);
    if case.mode == "accuracy" || case.audit_config.is_some() {
        assert!(!accuracy(official).is_empty(), "{}", case.name);
    }
    for key in keys(&o) {
        assert_eq!(n[&key], o[&key], "{}: detail-log key {key}", case.name);
    }
    assert_eq!(
        logged_errors(official),
        Vec::<String>::new(),
        "{}: the official run logged errors",
        case.name
    );
    assert_eq!(
        issue_order(native),
        issue_order(official),
        "{}: issue order",
        case.name
    );
    assert_eq!(
        results_json(native)["loadgen"]["result_valid"],
        results_json(official)["loadgen"]["result_valid"],
        "{}: the LoadGens' verdicts",
        case.name
    );
    assert_eq!(
        accuracy(native),
        accuracy(official),
        "{}: accuracy log",
        case.name
    );
}

fn conf(scenario: &str, extra: &str) -> String {
    let s = if scenario == "offline" {
        "Offline"
    } else {
        "Server"
    };
    format!("*.{s}.min_duration = 0\n*.{s}.target_qps = 400\n*.{s}.min_query_count = 24\n{extra}")
}

#[test]
fn both_loadgens_issue_and_log_the_same() {
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "0.5",
        "--sim-tpot-ms",
        "0.05",
        "--sim-output-len",
        "uniform:3:9",
    ]);
    let seeds = "*.*.qsl_rng_seed = 1234\n*.*.sample_index_rng_seed = 5678\n\
                 *.*.schedule_rng_seed = 91011\n";
    let subset = "*.*.performance_sample_count_override = 7\n";
    let cases = [
        Case {
            name: "offline-perf",
            scenario: "offline",
            mode: "performance",
            samples: 20,
            user_conf: conf("offline", ""),
            audit_config: None,
        },
        Case {
            name: "offline-perf-seeds-subset",
            scenario: "offline",
            mode: "performance",
            samples: 33,
            user_conf: conf("offline", &format!("{seeds}{subset}")),
            audit_config: None,
        },
        Case {
            name: "offline-accuracy",
            scenario: "offline",
            mode: "accuracy",
            samples: 17,
            user_conf: conf("offline", seeds),
            audit_config: None,
        },
        Case {
            name: "server-perf",
            scenario: "server",
            mode: "performance",
            samples: 20,
            user_conf: conf("server", ""),
            audit_config: None,
        },
        Case {
            name: "server-perf-seeds-subset",
            scenario: "server",
            mode: "performance",
            samples: 31,
            user_conf: conf("server", &format!("{seeds}{subset}")),
            audit_config: None,
        },
        // The duration, not min_query_count, decides how many queries are
        // generated and issued: 400 QPS for at least 1 s.
        Case {
            name: "server-perf-duration-bound",
            scenario: "server",
            mode: "performance",
            samples: 20,
            user_conf: "*.Server.min_duration = 1000\n*.Server.target_qps = 400\n\
                        *.Server.min_query_count = 1\n"
                .into(),
            audit_config: None,
        },
        Case {
            name: "server-accuracy",
            scenario: "server",
            mode: "accuracy",
            samples: 12,
            user_conf: conf("server", ""),
            audit_config: None,
        },
        Case {
            name: "interactive-perf",
            scenario: "interactive",
            mode: "performance",
            samples: 15,
            user_conf: conf("server", seeds),
            audit_config: None,
        },
        Case {
            name: "offline-test07",
            scenario: "offline",
            mode: "performance",
            samples: 14,
            user_conf: conf("offline", "*.*.performance_sample_count_override = 14\n"),
            audit_config: Some(eval::compliance::audit::TEST07_AUDIT_CONFIG),
        },
        Case {
            name: "server-test09",
            scenario: "server",
            mode: "performance",
            samples: 14,
            user_conf: conf(
                "server",
                &format!("{seeds}*.*.performance_sample_count_override = 14\n"),
            ),
            audit_config: Some(eval::compliance::audit::TEST09_AUDIT_CONFIG),
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for case in &cases {
        let native = run(dir.path(), &server.url, case, "native");
        let official = run(dir.path(), &server.url, case, "official");
        compare(case, &native, &official);
        if case.name == "server-perf-duration-bound" {
            // More queries than min_query_count's one equal-issue block of
            // 20: the 1 s schedule decided the count.
            let generated = &detail(&official)["generated_query_count"];
            assert!(
                generated.as_u64().unwrap() > 20,
                "{}: {generated}",
                case.name
            );
        }
    }
}

/// A dataset smaller than mlperf.conf's performance sample count under
/// TEST07's unique-issue settings generates no queries: the official
/// LoadGen would crash, so both refuse with the same message and the
/// official run never starts.
#[test]
fn settings_that_generate_nothing_fail_cleanly_with_both() {
    let server = Server::start(&["--model", "sim", "--sim-ttft-ms", "0", "--sim-tpot-ms", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let case = Case {
        name: "too-small",
        scenario: "offline",
        mode: "performance",
        samples: 14,
        user_conf: conf("offline", ""),
        audit_config: Some(eval::compliance::audit::TEST07_AUDIT_CONFIG),
    };
    let expected = "no queries would be generated: 14 loaded samples but 6396 samples per query";
    for loadgen in ["native", "official"] {
        let out = run_output(dir.path(), &server.url, &case, loadgen);
        assert!(!out.status.success(), "{loadgen}");
        assert!(
            stderr(&out).contains(expected),
            "{loadgen}: {}",
            stderr(&out)
        );
    }
}

/// A bad user.conf line: the official LoadGen's own message, before the run.
#[test]
fn a_bad_user_conf_line_is_reported_in_loadgens_words() {
    let server = Server::start(&["--model", "sim", "--sim-ttft-ms", "0", "--sim-tpot-ms", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let case = Case {
        name: "bad-conf",
        scenario: "server",
        mode: "performance",
        samples: 10,
        user_conf: "*.Server.target_qps = 100\n*.Server.min_duration = 10s\n".into(),
        audit_config: None,
    };
    let out = run_output(dir.path(), &server.url, &case, "official");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("value needs to be integer or double, line=2")
            && err.contains("bad-conf.user.conf"),
        "{err}"
    );
}

/// `compliance test09 --loadgen official`: the run and its verification.
#[test]
fn compliance_runs_with_the_official_loadgen() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 10);
    let conf = dir.path().join("user.conf");
    std::fs::write(
        &conf,
        "*.*.performance_sample_count_override = 10\n*.Server.target_qps = 500\n",
    )
    .unwrap();
    let conf = conf.display().to_string();
    let out = mlperf_gptoss(
        dir.path(),
        dir.path(),
        &[
            "compliance",
            "test09",
            "--loadgen",
            "official",
            "--scenario",
            "server",
            "--dataset",
            &data,
            "--user-conf",
            &conf,
            "--model",
            "sim",
            "--sim-ttft-ms",
            "0",
            "--sim-tpot-ms",
            "0",
            "--sim-output-len",
            "fixed:12",
            "--min-output-tokens",
            "11",
            "--max-output-tokens",
            "11",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("official LoadGen 6.0.17 @ d6147c7eb7"));
    let verify = std::fs::read_to_string(
        dir.path()
            .join("mlperf_results/compliance/Server/TEST09/verify_output_len.txt"),
    )
    .unwrap();
    assert!(verify.contains("Total samples: 10\n"), "{verify}");
    assert!(verify.ends_with("TEST PASS\n"), "{verify}");
    let logs = dir.path().join("mlperf_results/TEST09/server/performance");
    assert_eq!(logged_errors(&logs), Vec::<String>::new());
    assert_eq!(
        detail(&logs)["loadgen_version"],
        "6.0.17 @ d6147c7eb7",
        "the logs are the official LoadGen's"
    );
}

/// A server that dies mid-run: its samples fail, the official LoadGen still
/// ends and writes its logs, and the exit status says so.
#[test]
fn a_server_dying_mid_run_still_ends_the_official_run_with_logs() {
    let mut server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "1",
        "--sim-tpot-ms",
        "50",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 4);
    let conf = dir.path().join("user.conf");
    std::fs::write(
        &conf,
        "*.Offline.min_duration = 0\n*.Offline.min_query_count = 4\n\
         *.*.performance_sample_count_override = 4\n",
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(["run", "--loadgen", "official", "--backend", "sglang"])
        .args(["--endpoint", &server.url, "--dataset", &data])
        .arg("--user-conf")
        .arg(&conf)
        .args(["--max-new-tokens", "400", "--output-dir", "out"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // samples.jsonl appears just before LoadGen starts; 400 tokens take 20 s.
    let records = dir.path().join("out/offline/performance/samples.jsonl");
    let waited = std::time::Instant::now();
    while !records.exists() && waited.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::yield_now();
    }
    server.child.kill().unwrap();
    let output = run.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(!output.status.success(), "{err}");
    assert!(err.contains("4 of 4 samples failed"), "{err}");
    let logs = dir.path().join("out/offline/performance");
    assert!(logs.join("mlperf_log_summary.txt").is_file());
    assert_eq!(detail(&logs)["loadgen_version"], "6.0.17 @ d6147c7eb7");
}

/// FindPeakPerformance (user.conf `mode = 3`) reaches the official LoadGen,
/// which runs it only in Server: in Offline it logs its own error and issues
/// nothing, and `run` reports that error.
#[test]
fn find_peak_performance_reaches_the_official_loadgen() {
    let server = Server::start(&["--model", "sim", "--sim-ttft-ms", "0", "--sim-tpot-ms", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let case = Case {
        name: "find-peak",
        scenario: "offline",
        mode: "performance",
        samples: 8,
        user_conf: conf("offline", "*.Offline.mode = 3\n"),
        audit_config: None,
    };
    let out = run_output(dir.path(), &server.url, &case, "official");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("Finding peak performance is only supported in Server scenarios."),
        "{err}"
    );
    let logs = dir
        .path()
        .join("out-find-peak-official/offline/performance");
    assert_eq!(detail(&logs)["requested_test_mode"], "FindPeakPerformance");
}

/// The detail log's FindPeakPerformance messages, in order.
fn find_peak_messages(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Json>(l.strip_prefix(":::MLLOG ").unwrap()).unwrap())
        .filter(|e| e["key"] == "generic_message")
        .filter_map(|e| e["value"].as_str().map(String::from))
        .filter(|m| m.starts_with("FindBoundaries") || m.starts_with("FindPeak"))
        .collect()
}

/// Every value the detail log has for `key`, in order.
fn all_values(dir: &Path, key: &str) -> Vec<Json> {
    let text = std::fs::read_to_string(dir.join("mlperf_log_detail.txt")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Json>(l.strip_prefix(":::MLLOG ").unwrap()).unwrap())
        .filter(|e| e["key"] == key)
        .map(|e| e["value"].clone())
        .collect()
}

/// FindPeakPerformance's sim server: one request at a time, 20 ms to the
/// first token and 40 ms per token after it (9 tokens: `run_output`'s
/// --max-new-tokens), so a request holds the server for about 340 ms. The
/// longer the service, the farther (in ms of p99) the QPS that the search
/// tries lie from the limit: its last bracket is 0.1 QPS wide.
const PEAK_TTFT_MS: i64 = 20;
const PEAK_TPOT_MS: i64 = 40;
const PEAK_QUERIES: u64 = 24;

/// p99 TTFT (ns) of a FindPeakPerformance run at `qps`, were the server an
/// exact M/D/1 queue: the arrivals are LoadGen's seeded schedule (the plan
/// API, mlperf.conf's seeds); each request waits for the one before it,
/// then takes the sim's first-token time and 8 token gaps, plus `slack_ms`
/// on its first token (tokio's millisecond timers, HTTP) and `slow` on its
/// whole service time (the server's own overhead). With 24 queries
/// LoadGen's p99 index is 23: the largest TTFT.
fn m_d_1_p99_ttft(qps: f64, slack_ms: i64, slow: f64) -> i64 {
    let base = loadgen::TestSettings {
        scenario: loadgen::Scenario::Server,
        mode: loadgen::Mode::PerformanceOnly,
        ..Default::default()
    };
    // mlperf.conf's seeds, as the runs read it.
    let mut s = loadgen::resolve_settings(base, "gpt-oss-120b", loadgen::ConfigFiles::default())
        .unwrap()
        .settings;
    s.server_target_qps = qps;
    s.min_duration_ms = 0;
    s.min_query_count = PEAK_QUERIES;
    let plan = loadgen::plan(&s, 8, 8).unwrap();
    let ms = 1_000_000i64;
    let first = (PEAK_TTFT_MS + slack_ms) * ms;
    let service = ((first + 8 * PEAK_TPOT_MS * ms) as f64 * slow) as i64;
    let mut free = 0i64;
    let mut ttft: Vec<i64> = plan.series[0]
        .issued_queries()
        .iter()
        .map(|q| {
            let arrival = q.scheduled_ns as i64;
            let start = arrival.max(free);
            free = start + service;
            start - arrival + first
        })
        .collect();
    ttft.sort_unstable();
    ttft[(ttft.len() as f64 * 0.99) as usize]
}

/// LoadGen's FindPeakPerformance over a verdict function, with its default
/// step size (1: doubling) and precision (1 decimal), from `base`: the QPS
/// values it tries, in order.
fn find_peak_tries(base: f64, passes: impl Fn(f64) -> bool) -> Vec<f64> {
    let mut tried = vec![base];
    if !passes(base) {
        return tried;
    }
    let (mut l, mut u) = (base, base * 2.0);
    tried.push(u);
    while passes(u) {
        l = u;
        u *= 2.0;
        tried.push(u);
    }
    while (l * 10.0).floor() + 1.0 < (u * 10.0).floor() {
        let m = l + (u - l) / 2.0;
        tried.push(m);
        if passes(m) {
            l = m;
        } else {
            u = m;
        }
    }
    tried
}

/// Native FindPeakPerformance against the official one on the same
/// `serve --model sim`: the same QPS tried in the same order, the same
/// verdicts (hence the same bounds and peak), the same queries per run.
/// The test picks the TTFT limit (whole ms) whose search, on the M/D/1
/// model, never tries a QPS whose p99 lies within a few ms of the limit, so
/// that timing noise cannot flip a verdict, and checks that both LoadGens
/// tried exactly what the model predicts.
#[test]
fn find_peak_performance_matches_the_official_search() {
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-max-concurrency",
        "1",
        "--sim-ttft-ms",
        &PEAK_TTFT_MS.to_string(),
        "--sim-tpot-ms",
        &PEAK_TPOT_MS.to_string(),
    ]);
    // The server's first request pays its lazy start (about a second): not in a run.
    let (status, body) = common::request(
        server.addr(),
        "POST",
        "/generate",
        r#"{"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 2}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let ms = 1_000_000i64;
    // Two versions of the model: a nominal server (1 ms of slack) and a slow
    // one (3 ms, and 2 % longer service). A verdict counts as certain when
    // both agree; its clearance is the nearer of their p99s to the limit.
    let memo = std::cell::RefCell::new(std::collections::HashMap::new());
    let p99 = |q: f64, slow: bool| -> i64 {
        *memo
            .borrow_mut()
            .entry((q.to_bits(), slow))
            .or_insert_with(|| match slow {
                false => m_d_1_p99_ttft(q, 1, 1.0),
                true => m_d_1_p99_ttft(q, 3, 1.02),
            })
    };
    // The starting QPS and the limit (whole ms, between the nominal p99 at 1
    // and at 2.8 QPS; capacity is about 2.9) whose search stays farthest from
    // the limit at every QPS it tries.
    let (lo, hi) = (p99(1.0, false) / ms + 1, p99(2.8, false) / ms);
    let (base, limit_ms, clearance, expected) = (30..=75)
        .map(|b| b as f64 / 50.0)
        .flat_map(|base| (lo..hi).map(move |limit| (base, limit)))
        .map(|(base, limit)| {
            let l = limit * ms;
            let tried = find_peak_tries(base, |q| p99(q, false) <= l);
            let clearance = tried
                .iter()
                .map(|&q| {
                    let (a, b) = (p99(q, false) - l, p99(q, true) - l);
                    if (a <= 0) == (b <= 0) {
                        a.abs().min(b.abs())
                    } else {
                        0
                    }
                })
                .min()
                .unwrap();
            (base, limit, clearance, tried)
        })
        // A real search: widening and at least three bisection steps.
        .filter(|c| c.3.len() >= 6)
        .max_by_key(|c| c.2)
        .unwrap();
    assert!(
        clearance >= 5 * ms,
        "no start and TTFT limit keep the search 5 ms from the limit: best {base} QPS, \
         {limit_ms} ms, {clearance} ns"
    );
    let dir = tempfile::tempdir().unwrap();
    let case = Case {
        name: "find-peak-server",
        scenario: "server",
        mode: "performance",
        samples: 8,
        user_conf: format!(
            "*.Server.min_duration = 0\n*.Server.min_query_count = {PEAK_QUERIES}\n\
             *.Server.target_qps = {base}\n*.Server.mode = 3\n\
             *.Server.ttft_latency = {limit_ms}\n*.Server.tpot_latency = 1000\n"
        ),
        audit_config: None,
    };
    let logs = |loadgen: &str| {
        let _ = run_output(dir.path(), &server.url, &case, loadgen);
        dir.path()
            .join(format!("out-find-peak-server-{loadgen}/server/performance"))
    };
    let (native, official) = (logs("native"), logs("official"));
    let messages = find_peak_messages(&official);
    assert_eq!(
        find_peak_messages(&native),
        messages,
        "from {base} QPS, limit {limit_ms} ms, clearance {clearance} ns"
    );
    for key in ["generated_query_count", "loaded_qsl_set", "result_validity"] {
        assert_eq!(
            all_values(&native, key),
            all_values(&official, key),
            "{key}"
        );
    }
    // Both tried what the model predicts.
    let tried: Vec<&str> = messages
        .iter()
        .filter_map(|m| {
            let field = if m.starts_with("FindBoundaries") {
                m.rsplit(", ").next()?.trim_end_matches(')')
            } else if m.starts_with("FindPeakPerformanceBinarySearch")
                || m.starts_with("FindPeakPerformance: Check validity")
            {
                m.rsplit(": ").next()?
            } else {
                return None;
            };
            Some(field)
        })
        .collect();
    // As LoadGen prints them: C++ std::to_string, six decimals.
    let expected: Vec<String> = expected.iter().map(|q| format!("{q:.6}")).collect();
    assert_eq!(tried, expected, "limit {limit_ms} ms: {messages:#?}");
}
