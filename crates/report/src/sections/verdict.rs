//! Verdict and settings: VALID or INVALID and why, the settings that shaped
//! the run, and the warnings and errors LoadGen logged.

use serde::Serialize;

use crate::read::Run;

/// The verdict section.
#[derive(Serialize)]
pub struct Verdict {
    /// `VALID` / `INVALID` as the summary prints it; `None` without a verdict.
    pub result: Option<String>,
    /// Why (the summary's recommendations, or the detail log's invalid reasons).
    pub reasons: Vec<String>,
    /// The run's conditions: (name, satisfied).
    pub conditions: Vec<(String, String)>,
    /// (setting, value) rows.
    pub settings: Vec<(String, String)>,
    /// LoadGen's errors and warnings: (kind, key, text).
    pub flagged: Vec<(String, String, String)>,
}

/// Settings shown, as (label, detail-log key, summary key).
const SETTINGS: [(&str, &str, &str); 13] = [
    ("scenario", "effective_scenario", "Scenario"),
    ("mode", "effective_test_mode", "Mode"),
    ("target QPS", "effective_target_qps", "target_qps"),
    (
        "TTFT limit (ns)",
        "requested_server_ttft_latency",
        "ttft_latency (ns)",
    ),
    (
        "TPOT limit (ns)",
        "requested_server_tpot_latency",
        "tpot_latency (ns)",
    ),
    (
        "target latency percentile",
        "effective_target_latency_percentile",
        "",
    ),
    (
        "min duration (ms)",
        "effective_min_duration_ms",
        "min_duration (ms)",
    ),
    (
        "min query count",
        "effective_min_query_count",
        "min_query_count",
    ),
    ("queries issued", "result_query_count", ""),
    (
        "performance sample count",
        "effective_performance_sample_count",
        "performance_sample_count",
    ),
    ("qsl / sample index / schedule seeds", "", ""),
    ("SUT", "sut_name", "SUT name"),
    ("LoadGen version", "loadgen_version", ""),
];

/// Builds the section; `None` when the folder has no LoadGen logs.
pub fn build(run: &Run) -> Option<Verdict> {
    if run.summary.is_none() && run.detail.is_none() {
        return None;
    }
    let summary = run.summary.as_ref();
    let detail = run.detail.as_ref();
    let mut settings = Vec::new();
    for (label, dkey, skey) in SETTINGS {
        let value = if label.starts_with("qsl /") {
            let seeds: Vec<String> = ["qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed"]
                .iter()
                .filter_map(|k| {
                    detail
                        .and_then(|d| d.text(&format!("effective_{k}")))
                        .or_else(|| summary.and_then(|s| s.get(k)).map(str::to_string))
                })
                .collect();
            (!seeds.is_empty()).then(|| seeds.join(" / "))
        } else {
            detail
                .filter(|_| !dkey.is_empty())
                .and_then(|d| d.text(dkey))
                .or_else(|| {
                    summary
                        .filter(|_| !skey.is_empty())
                        .and_then(|s| s.get(skey))
                        .map(str::to_string)
                })
        };
        if let Some(v) = value {
            settings.push((label.to_string(), v));
        }
    }
    let mut conditions = Vec::new();
    for key in [
        "Performance constraints satisfied",
        "Min duration satisfied",
        "Min queries satisfied",
        "Early stopping satisfied",
    ] {
        if let Some(v) = summary.and_then(|s| s.get(key)) {
            conditions.push((key.to_string(), v.to_string()));
        }
    }
    let mut reasons: Vec<String> = summary
        .map(|s| s.recommendations.clone())
        .unwrap_or_default();
    reasons.retain(|r| !r.trim().is_empty());
    if reasons.is_empty() {
        if let Some(d) = detail {
            reasons.extend(
                d.events
                    .iter()
                    .filter(|e| e.key == "result_invalid_reason")
                    .map(|e| e.value.as_str().unwrap_or_default().to_string())
                    .filter(|r| !r.trim().is_empty()),
            );
        }
    }
    let flagged = detail
        .map(|d| {
            d.flagged()
                .map(|e| {
                    let kind = if e.is_error { "error" } else { "warning" };
                    let text = match &e.value {
                        serde_json::Value::String(s) => s.clone(),
                        v => v.to_string(),
                    };
                    (kind.to_string(), e.key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Verdict {
        result: summary
            .and_then(|s| s.verdict())
            .map(str::to_string)
            .or_else(|| detail.and_then(|d| d.text("result_validity"))),
        reasons,
        conditions,
        settings,
        flagged,
    })
}
