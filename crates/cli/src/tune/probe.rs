//! One probe: a real LoadGen run (`run::execute_in`) with the user's
//! settings plus a user.conf override (target QPS, a short minimum
//! duration or query count), judged by what LoadGen logged.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::search::Verdict;
use crate::run;

/// What a probe asks LoadGen for.
#[derive(Clone, Debug)]
pub struct Request {
    /// `search`, `estimate` (the Offline burst), `confirm` or `sweep` (Offline).
    pub kind: &'static str,
    /// Server target QPS (Offline: 0).
    pub qps: f64,
    /// Requests in flight at once, if the probe sets it.
    pub max_concurrency: Option<usize>,
    /// The user.conf lines that make this probe (appended to the user's).
    pub overrides: String,
    /// The `min_duration` those lines set, if any.
    pub min_duration: Option<std::time::Duration>,
    /// The `min_query_count` those lines set.
    pub min_queries: u64,
}

/// One probe as `tune.json` records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Probe {
    /// `search`, `estimate`, `confirm` or `sweep`.
    pub kind: String,
    /// The target QPS probed (Server/Interactive).
    pub qps: f64,
    /// `--max-concurrency` of the probe, when it set one.
    pub max_concurrency: Option<usize>,
    /// Wall time of the probe, seconds.
    pub duration_s: f64,
    /// Queries LoadGen issued (`result_query_count`).
    pub queries: Option<u64>,
    /// LoadGen's p99 TTFT, ms.
    pub p99_ttft_ms: Option<f64>,
    /// LoadGen's p99 TPOT, ms.
    pub p99_tpot_ms: Option<f64>,
    /// The lowest TTFT limit this probe's queries would pass early stopping against, ms.
    pub early_stopping_ttft_ms: Option<f64>,
    /// The same for TPOT, ms.
    pub early_stopping_tpot_ms: Option<f64>,
    /// Offline: LoadGen's tokens/s; Server: completed tokens/s.
    pub tokens_per_second: Option<f64>,
    /// Offline: samples/s.
    pub samples_per_second: Option<f64>,
    /// `VALID`, `INVALID` or `error`.
    pub verdict: String,
    /// Why it is not VALID (LoadGen's recommendation, early stopping's
    /// message, failed requests, or the error).
    pub reason: String,
    /// Every request failed.
    pub all_failed: bool,
    /// The probe's folder (LoadGen's logs, samples.jsonl, its user.conf).
    pub logs: PathBuf,
}

impl Probe {
    /// The verdict the search takes.
    pub fn verdict(&self) -> Verdict {
        match self.verdict.as_str() {
            _ if self.all_failed => Verdict::Broken,
            "VALID" => Verdict::Pass,
            _ => Verdict::Fail,
        }
    }
}

/// Runs `req` with the user's run flags; its logs go to `dir`. Every way a
/// probe can go wrong is recorded in the returned probe, never an error;
/// `None` when Ctrl-C ended it early (it measured nothing, so it is not kept).
pub fn run_probe(
    base: &run::Args,
    user_conf: &str,
    report_all_tokens: bool,
    req: &Request,
    dir: &Path,
) -> Option<Probe> {
    let started = Instant::now();
    let mut probe = Probe {
        kind: req.kind.to_string(),
        qps: req.qps,
        max_concurrency: req.max_concurrency,
        duration_s: 0.0,
        queries: None,
        p99_ttft_ms: None,
        p99_tpot_ms: None,
        early_stopping_ttft_ms: None,
        early_stopping_tpot_ms: None,
        tokens_per_second: None,
        samples_per_second: None,
        verdict: "error".into(),
        reason: String::new(),
        all_failed: false,
        logs: dir.to_path_buf(),
    };
    let outcome = write_conf(dir, user_conf, &req.overrides).and_then(|conf| {
        let mut args = base.clone();
        args.config.user_conf = Some(conf);
        args.quiet = true;
        args.output_dir = dir.to_path_buf();
        if req.max_concurrency.is_some() {
            args.max_concurrency = req.max_concurrency;
        }
        run::execute_in(args, dir.to_path_buf())
    });
    probe.duration_s = started.elapsed().as_secs_f64();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            probe.reason = format!("{e:#}");
            return Some(probe);
        }
    };
    if outcome.interrupted {
        return None;
    }
    judge(&mut probe, dir, report_all_tokens);
    if outcome.errors > 0 {
        probe.all_failed = outcome.errors == outcome.done;
        probe.verdict = "error".into();
        probe.reason = format!(
            "{} of {} requests failed; first: {}",
            outcome.errors,
            outcome.done,
            outcome.first_error.as_deref().unwrap_or("?")
        );
    } else if outcome.loadgen_errors > 0 && probe.verdict == "VALID" {
        probe.verdict = "INVALID".into();
        probe.reason = format!(
            "LoadGen logged an error: {}",
            outcome.first_loadgen_error.as_deref().unwrap_or("?")
        );
    }
    Some(probe)
}

/// The probe's user.conf: the user's lines, then the probe's, which win
/// (the same keys later in the file, or more specific ones).
fn write_conf(dir: &Path, user_conf: &str, overrides: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("probe.user.conf");
    std::fs::write(
        &path,
        format!("{user_conf}\n# tune: this probe's settings\n{overrides}"),
    )?;
    Ok(path)
}

/// Fills the probe from LoadGen's detail log and `samples.jsonl`.
fn judge(probe: &mut Probe, dir: &Path, report_all_tokens: bool) {
    let detail = match loadgen_official::DetailLog::read(&dir.join("mlperf_log_detail.txt")) {
        Ok(d) => d,
        Err(e) => {
            probe.reason = e;
            return;
        }
    };
    let v = &detail.values;
    let num = |key: &str| v.get(key).and_then(|x| x.as_f64());
    let text = |key: &str| v.get(key).and_then(|x| x.as_str()).unwrap_or("").trim();
    probe.queries = v.get("result_query_count").and_then(|x| x.as_u64());
    probe.p99_ttft_ms = num("result_first_token_99.00_percentile_latency_ns").map(|n| n / 1e6);
    probe.p99_tpot_ms = num("result_time_per_output_token_99.00_percentile_ns").map(|n| n / 1e6);
    probe.tokens_per_second =
        num("result_tokens_per_second").or(num("result_completed_tokens_per_second"));
    probe.samples_per_second = num("result_samples_per_second");
    match detail.result_valid() {
        Some(true) => {
            probe.verdict = "VALID".into();
            probe.reason.clear();
        }
        Some(false) => {
            probe.verdict = "INVALID".into();
            let mut why = vec![text("result_invalid_reason").to_string()];
            if v.get("early_stopping_met").and_then(|x| x.as_bool()) == Some(false) {
                for (name, key) in [
                    ("TPOT", "early_stopping_tpot_result"),
                    ("TTFT", "early_stopping_ttft_result"),
                    ("latency", "early_stopping_result"),
                ] {
                    if text(key).contains("unsuccessful") {
                        why.push(early_stopping_reason(name, text(key)));
                    }
                }
            }
            why.retain(|w| !w.is_empty());
            probe.reason = why.join("; ").replace("\n", " ");
        }
        None => probe.reason = "LoadGen logged no result".into(),
    }
    if let (Some(n), Ok(text)) = (
        probe.queries,
        std::fs::read_to_string(dir.join("samples.jsonl")),
    ) {
        let (ttft, tpot) = token_latencies(&text, report_all_tokens);
        let est = |lat: &[i64]| {
            loadgen::early_stopping_estimate(lat, n as i64, 0.99).map(|ns| ns as f64 / 1e6)
        };
        probe.early_stopping_ttft_ms = est(&ttft);
        probe.early_stopping_tpot_ms = est(&tpot);
    }
}

/// LoadGen's early-stopping failure text, shortened to what it asks for:
/// "early stopping (TTFT) needs 133 more queries".
fn early_stopping_reason(name: &str, text: &str) -> String {
    let more = text
        .split("at least ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next());
    match more {
        Some(n) => format!("early stopping ({name}) needs {n} more queries"),
        None => format!(
            "early stopping ({name}): {}",
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
    }
}

/// Per-sample TTFT and TPOT (ns) as LoadGen computes them, from the
/// records: TTFT from the scheduled time; TPOT over the tokens reported to
/// LoadGen after the first (the reference reports all but the first).
fn token_latencies(samples_jsonl: &str, report_all_tokens: bool) -> (Vec<i64>, Vec<i64>) {
    let mut ttft = Vec::new();
    let mut tpot = Vec::new();
    for line in samples_jsonl.lines() {
        let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let get = |k: &str| r[k].as_i64();
        let (Some(sched), Some(first), Some(done), Some(out)) = (
            get("scheduled_ns"),
            get("first_token_ns"),
            get("done_ns"),
            get("output_tokens"),
        ) else {
            continue;
        };
        ttft.push(first - sched);
        let reported = if report_all_tokens { out } else { out - 1 };
        if reported > 1 {
            tpot.push((done - first) / (reported - 1));
        }
    }
    (ttft, tpot)
}
