//! `submission check`: the v6.1 checker's rules for gpt-oss-120b
//! (`../shared/docs/submission-checker.md`), plus what it misses: INVALID
//! results, LoadGen errors in any log, an accuracy run on fewer than 4,395
//! rows, Interactive judged against its own 2000/15 ms, logs of the native
//! LoadGen, and truncated logs whose hash differs from the full log kept beside
//! the tree. One [`Problem`] per finding, each naming its file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::detail_log::DetailLog;
use super::layout::{full_copy_of, shown, BENCHMARK, DIVISIONS, FULL_LOGS};
use super::measurements::MEASUREMENT_KEYS;
use super::systems;
use super::truncate::{hash_line, sha256_file, MAX_ACCURACY_LOG_SIZE};

/// The accuracy target: 99 % of 83.13 exact_match.
pub const ACCURACY_TARGET: f64 = 83.13 * 0.99;
/// Rows of the accuracy set.
pub const ACCURACY_ROWS: u64 = 4395;
/// Rows of the performance set (performance sample count, Offline samples per query).
pub const PERFORMANCE_ROWS: u64 = 6396;
/// Minimum performance run length.
pub const MIN_DURATION_MS: u64 = 600_000;
/// v6.1 seeds: qsl, sample index, schedule.
pub const SEEDS: [(&str, u64); 3] = [
    ("effective_qsl_rng_seed", 2085463073848966840),
    ("effective_sample_index_rng_seed", 2747215439041700203),
    ("effective_schedule_rng_seed", 16159082839903944936),
];
/// Marks our native LoadGen in `loadgen_version`.
const NATIVE_MARK: &str = "mlperf-gptoss-loadgen";

/// One finding: the file, the key, what was expected and what was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The file (or folder), relative to the submission directory.
    pub file: String,
    /// The key, or what about the file.
    pub key: String,
    /// What the rules want.
    pub expected: String,
    /// What is there.
    pub found: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: expected {}, found {}",
            self.file, self.key, self.expected, self.found
        )
    }
}

/// Collects problems with paths shown relative to the submission directory.
struct Findings {
    root: PathBuf,
    list: Vec<Problem>,
}

impl Findings {
    fn add(
        &mut self,
        file: &Path,
        key: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) {
        self.list.push(Problem {
            file: shown(&self.root, file),
            key: key.into(),
            expected: expected.into(),
            found: found.into(),
        });
    }

    /// Reads a file that must exist and be non-empty.
    fn non_empty(&mut self, path: &Path) -> Option<String> {
        match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t),
            Ok(_) => {
                self.add(path, "content", "a non-empty file", "an empty file");
                None
            }
            Err(_) => {
                self.add(path, "file", "present", "missing");
                None
            }
        }
    }
}

/// Every problem of the submission under `root` (the folder holding `closed/` …).
pub fn check(root: &Path) -> Vec<Problem> {
    let mut f = Findings {
        root: root.to_path_buf(),
        list: Vec::new(),
    };
    let divisions: Vec<&str> = DIVISIONS
        .iter()
        .copied()
        .filter(|d| root.join(d).is_dir())
        .collect();
    if divisions.is_empty() {
        f.add(
            root,
            "division folder",
            "closed/, open/ or network/",
            "none",
        );
    }
    if !root.join(FULL_LOGS).is_dir() {
        f.add(
            &root.join(FULL_LOGS),
            "folder",
            "the full accuracy logs kept beside the tree (MLCommons may ask for them; their sha256 is in each accuracy.txt)",
            "missing",
        );
    }
    for division in divisions {
        for org in subdirs(&root.join(division)) {
            check_org(&mut f, root, division, &org);
        }
    }
    f.list.sort();
    f.list.dedup();
    f.list
}

fn subdirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn check_org(f: &mut Findings, root: &Path, division: &str, org: &str) {
    let org_dir = root.join(division).join(org);
    if !org_dir.join("src").is_dir() {
        f.add(&org_dir.join("src"), "folder", "present", "missing");
    }
    if division == "closed" && !org_dir.join("documentation/calibration.md").is_file() {
        f.add(
            &org_dir.join("documentation/calibration.md"),
            "file",
            "present",
            "missing",
        );
    }
    let results = org_dir.join("results");
    let systems = subdirs(&results);
    if systems.is_empty() {
        f.add(&results, "systems", "a results/<system>/ folder", "none");
    }
    for system in systems {
        check_system_json(
            f,
            &org_dir.join("systems").join(format!("{system}.json")),
            division,
            org,
        );
        for model in subdirs(&results.join(&system)) {
            let model_dir = results.join(&system).join(&model);
            if model != BENCHMARK {
                f.add(&model_dir, "benchmark", BENCHMARK, model);
                continue;
            }
            let scenarios = subdirs(&model_dir);
            if !scenarios.iter().any(|s| s == "Offline") {
                f.add(
                    &model_dir,
                    "scenario",
                    "Offline (required in the datacenter category)",
                    "missing",
                );
            }
            if !scenarios
                .iter()
                .any(|s| s == "Server" || s == "Interactive")
            {
                f.add(
                    &model_dir,
                    "scenario",
                    "(one of) Interactive or Server",
                    "missing",
                );
            }
            for scenario in scenarios {
                let dir = model_dir.join(&scenario);
                match scenario.as_str() {
                    "Offline" | "Server" | "Interactive" => {
                        check_scenario(f, root, &dir, &scenario, division)
                    }
                    other => f.add(&dir, "scenario", "Offline, Server or Interactive", other),
                }
            }
        }
    }
}

fn check_system_json(f: &mut Findings, path: &Path, division: &str, org: &str) {
    let Some(text) = f.non_empty(path) else {
        return;
    };
    let desc = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => m,
        _ => {
            f.add(path, "content", "a JSON object", "something else");
            return;
        }
    };
    for (key, expected, found) in systems::problems(&desc, division, org) {
        f.add(path, &key, expected, found);
    }
}

fn check_scenario(f: &mut Findings, root: &Path, dir: &Path, scenario: &str, division: &str) {
    f.non_empty(&dir.join("user.conf"));
    f.non_empty(&dir.join("README.md"));
    check_measurements(f, &dir.join("measurements.json"));
    check_performance(f, &dir.join("performance/run_1"), scenario, division);
    check_accuracy(f, root, &dir.join("accuracy"));
    for (test, verify) in [
        ("TEST07", "verify_accuracy.txt"),
        ("TEST09", "verify_output_len.txt"),
    ] {
        check_compliance(f, root, &dir.join(test), verify);
    }
}

fn check_measurements(f: &mut Findings, path: &Path) {
    let Some(text) = f.non_empty(path) else {
        return;
    };
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) else {
        f.add(path, "content", "a JSON object", "something else");
        return;
    };
    for key in MEASUREMENT_KEYS {
        match m.get(key).map(systems::value_text) {
            None => f.add(path, key, "present", "missing"),
            Some(v) if v.trim().is_empty() => f.add(path, key, "a non-empty value", "\"\""),
            Some(_) => {}
        }
    }
}

/// Parses a detail log and reports what every log is checked for: its
/// format, LoadGen's errors, and whether the official LoadGen wrote it.
fn read_detail(f: &mut Findings, path: &Path) -> Option<DetailLog> {
    if !path.is_file() {
        f.add(path, "file", "present", "missing");
        return None;
    }
    let log = match DetailLog::read(path) {
        Ok(log) => log,
        Err(e) => {
            f.add(path, "format", "a LoadGen detail log", e);
            return None;
        }
    };
    if let Some(first) = log.errors.first() {
        f.add(
            path,
            "is_error",
            "no LoadGen errors",
            format!("{} error(s), first: {first}", log.errors.len()),
        );
    }
    let version = log.text("loadgen_version");
    let no_sha1 = matches!(log.get("loadgen_file_sha1"), Some(Value::Object(m)) if m.is_empty());
    if version.contains(NATIVE_MARK) || no_sha1 {
        f.add(
            path,
            "loadgen_version",
            "the official LoadGen (\"<version> @ <git revision>\" and its loadgen_file_sha1 map; run with --loadgen official)",
            format!("{version} (mlperf-gptoss's native LoadGen: not submittable)"),
        );
    }
    Some(log)
}

fn check_performance(f: &mut Findings, run: &Path, scenario: &str, division: &str) {
    if !run.join("mlperf_log_summary.txt").is_file() {
        f.add(
            &run.join("mlperf_log_summary.txt"),
            "file",
            "present",
            "missing",
        );
    }
    let path = run.join("mlperf_log_detail.txt");
    let Some(log) = read_detail(f, &path) else {
        return;
    };
    at_least(
        f,
        &path,
        &log,
        "effective_performance_sample_count",
        PERFORMANCE_ROWS,
        "6396",
    );
    at_least(
        f,
        &path,
        &log,
        "effective_min_duration_ms",
        MIN_DURATION_MS,
        "600000 (600 s)",
    );
    let logged_scenario = if scenario == "Offline" {
        "Offline"
    } else {
        "Server"
    };
    if log.text("effective_scenario") != logged_scenario {
        f.add(
            &path,
            "effective_scenario",
            logged_scenario,
            log.text("effective_scenario"),
        );
    }
    for (key, seed) in SEEDS {
        if log.unsigned(key) != Some(seed) {
            f.add(&path, key, seed.to_string(), log.text(key));
        }
    }
    if log.flag("requested_use_token_latencies") != Some(true) {
        f.add(
            &path,
            "requested_use_token_latencies",
            "true",
            log.text("requested_use_token_latencies"),
        );
    }
    let validity = log.text("result_validity");
    if validity != "VALID" {
        f.add(&path, "result_validity", "VALID", validity);
    }
    let metrics: &[&str] = if scenario == "Offline" {
        at_least(f, &path, &log, "effective_min_query_count", 1, "1");
        if division == "closed" {
            at_least(
                f,
                &path,
                &log,
                "effective_samples_per_query",
                PERFORMANCE_ROWS,
                "6396",
            );
        }
        &["result_samples_per_second", "result_tokens_per_second"]
    } else {
        if log.flag("early_stopping_met") != Some(true) {
            f.add(
                &path,
                "early_stopping_met",
                "true",
                log.text("early_stopping_met"),
            );
        }
        match log.number("effective_target_latency_ns") {
            Some(v) if v <= 60e9 => {}
            _ => f.add(
                &path,
                "effective_target_latency_ns",
                "≤ 60000000000",
                log.text("effective_target_latency_ns"),
            ),
        }
        // Interactive by its own limits: the official checker applies Server's.
        let (ttft_ms, tpot_ms) = if scenario == "Interactive" {
            (2000.0, 15.0)
        } else {
            (3000.0, 80.0)
        };
        for (key, limit) in [
            ("result_first_token_99.00_percentile_latency_ns", ttft_ms),
            ("result_time_per_output_token_99.00_percentile_ns", tpot_ms),
        ] {
            match log.number(key) {
                Some(ns) if ns / 1e6 < limit => {}
                Some(ns) => f.add(
                    &path,
                    key,
                    format!("< {limit} ms ({scenario})"),
                    format!("{} ms", trim_number(ns / 1e6)),
                ),
                None => f.add(&path, key, format!("< {limit} ms ({scenario})"), "missing"),
            }
        }
        &[
            "result_completed_samples_per_sec",
            "result_completed_tokens_per_second",
        ]
    };
    for key in metrics {
        if log.number(key).is_none() {
            f.add(&path, key, "a number", log.text(key));
        }
    }
}

/// A numeric key that must be at least `min`.
fn at_least(f: &mut Findings, path: &Path, log: &DetailLog, key: &str, min: u64, what: &str) {
    match log.number(key) {
        Some(v) if v >= min as f64 => {}
        Some(v) => f.add(path, key, format!("≥ {what}"), trim_number(v)),
        None => f.add(path, key, format!("≥ {what}"), "missing"),
    }
}

fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn check_accuracy(f: &mut Findings, root: &Path, dir: &Path) {
    if let Some(log) = read_detail(f, &dir.join("mlperf_log_detail.txt")) {
        let path = dir.join("mlperf_log_detail.txt");
        let count_key = if log.get("effective_accuracy_sample_count").is_some() {
            "effective_accuracy_sample_count"
        } else {
            "qsl_reported_total_count"
        };
        if log.number(count_key) != Some(ACCURACY_ROWS as f64) {
            f.add(
                &path,
                count_key,
                ACCURACY_ROWS.to_string(),
                log.text(count_key),
            );
        }
        // LoadGen logs the mlperf.conf override whatever the QSL's size; the
        // rows really run are the QSL's.
        if log.number("qsl_reported_total_count") != Some(ACCURACY_ROWS as f64) {
            f.add(
                &path,
                "qsl_reported_total_count",
                format!("{ACCURACY_ROWS} (the whole accuracy set)"),
                log.text("qsl_reported_total_count"),
            );
        }
    }
    if !dir.join("mlperf_log_summary.txt").is_file() {
        f.add(
            &dir.join("mlperf_log_summary.txt"),
            "file",
            "present",
            "missing",
        );
    }
    let txt = dir.join("accuracy.txt");
    if let Some(text) = f.non_empty(&txt) {
        match exact_match(&text) {
            Some(score) if score >= ACCURACY_TARGET => {}
            Some(score) => f.add(
                &txt,
                "exact_match",
                format!("≥ {ACCURACY_TARGET:.4}"),
                trim_number(score),
            ),
            None => f.add(&txt, "exact_match", "a line 'exact_match': X", "none"),
        }
    }
    check_truncated(f, root, dir, true);
}

/// The score of the checker's `.*'exact_match':\s([\d.]+).*` on the first matching line.
pub fn exact_match(text: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = &line[line.find("'exact_match':")? + "'exact_match':".len()..];
        let mut chars = rest.chars();
        if !chars.next()?.is_whitespace() {
            return None;
        }
        let number: String = chars
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse().ok()
    })
}

/// An accuracy folder's log must be truncated, carry its hash, and the full
/// log beside the tree must have that hash.
fn check_truncated(f: &mut Findings, root: &Path, dir: &Path, has_score: bool) {
    let log = dir.join("mlperf_log_accuracy.json");
    let Ok(meta) = std::fs::metadata(&log) else {
        f.add(&log, "file", "present", "missing");
        return;
    };
    if meta.len() >= MAX_ACCURACY_LOG_SIZE {
        f.add(
            &log,
            "size",
            "< 10240 bytes (truncated by truncate_accuracy_log.py)",
            format!("{} bytes (not truncated)", meta.len()),
        );
    }
    let txt = dir.join("accuracy.txt");
    let text = std::fs::read_to_string(&txt).unwrap_or_default();
    let Some(hash) = hash_line(&text) else {
        let what = if has_score {
            "the scorer's output and a hash=<sha256> line"
        } else {
            "hash=<sha256>"
        };
        f.add(&txt, "hash", what, "no hash line");
        return;
    };
    if !root.join(FULL_LOGS).is_dir() {
        return; // reported once, by `check`
    }
    let full = full_copy_of(root, &log);
    match sha256_file(&full) {
        Ok(full_hash) if full_hash == hash => {}
        Ok(full_hash) => f.add(
            &txt,
            "hash",
            format!("{full_hash} (sha256 of {})", shown(root, &full)),
            hash,
        ),
        Err(_) => f.add(
            &full,
            "file",
            "the full accuracy log, kept beside the tree",
            "missing",
        ),
    }
}

fn check_compliance(f: &mut Findings, root: &Path, dir: &Path, verify: &str) {
    if !dir.is_dir() {
        f.add(
            dir,
            "folder",
            "present (compliance test for gpt-oss-120b)",
            "missing",
        );
        return;
    }
    let verify = dir.join(verify);
    if let Some(text) = f.non_empty(&verify) {
        if !text.contains("TEST PASS") {
            let last = text.lines().last().unwrap_or_default().trim().to_string();
            f.add(&verify, "verdict", "TEST PASS", last);
        }
    }
    read_detail(f, &dir.join("performance/run_1/mlperf_log_detail.txt"));
    check_truncated(f, root, &dir.join("accuracy"), false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_as_the_checker_reads_it() {
        assert_eq!(
            exact_match("x\n{'exact_match': 12.5, 'n': 3}\n"),
            Some(12.5)
        );
        assert_eq!(
            exact_match("'exact_match':  12.5\n"),
            None,
            "one whitespace only"
        );
        assert_eq!(exact_match("\"exact_match\": 12.5\n"), None);
    }
}
