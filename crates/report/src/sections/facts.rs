//! The few facts of a run that several sections need: its scenario, its
//! latency limits and the per-sample latencies, read once.

use crate::read::Run;
use crate::stats::percentile;

/// A run's scenario, limits and latency series.
pub struct Facts {
    /// `Server`, `Offline`, … ("" when no log says).
    pub scenario: String,
    /// TTFT limit in ns (Server / Interactive).
    pub ttft_limit_ns: Option<f64>,
    /// TPOT limit in ns (Server / Interactive).
    pub tpot_limit_ns: Option<f64>,
    /// The latency percentile the limits apply to (0.99).
    pub target_percentile: f64,
    /// Queries LoadGen issued (its count, else the records').
    pub queries_issued: Option<i64>,
    /// TTFT per sample in ns, sorted (from samples.jsonl).
    pub ttft_ns: Vec<f64>,
    /// TPOT per sample in ns, sorted.
    pub tpot_ns: Vec<f64>,
    /// e2e latency per finished sample in ns, sorted.
    pub e2e_ns: Vec<f64>,
}

impl Facts {
    /// Reads the facts from the detail log, the summary and the records.
    pub fn of(run: &Run) -> Facts {
        let detail = run.detail.as_ref();
        let summary = run.summary.as_ref();
        let d = |k: &str| detail.and_then(|d| d.number(k));
        let s = |k: &str| summary.and_then(|s| s.number(k));
        let scenario = detail
            .and_then(|d| d.text("effective_scenario"))
            .or_else(|| summary.and_then(|s| s.get("Scenario")).map(str::to_string))
            .unwrap_or_default();
        let samples = run
            .samples
            .as_ref()
            .map(|f| f.samples.as_slice())
            .unwrap_or_default();
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        let ok = || samples.iter().filter(|s| s.error.is_none());
        Facts {
            ttft_limit_ns: d("requested_server_ttft_latency").or_else(|| s("ttft_latency (ns)")),
            tpot_limit_ns: d("requested_server_tpot_latency").or_else(|| s("tpot_latency (ns)")),
            target_percentile: d("effective_target_latency_percentile").unwrap_or(0.99),
            queries_issued: d("result_query_count")
                .map(|q| q as i64)
                .or_else(|| (!samples.is_empty()).then_some(samples.len() as i64)),
            ttft_ns: sorted(ok().filter_map(|s| s.ttft_ns()).map(|v| v as f64).collect()),
            tpot_ns: sorted(ok().filter_map(|s| s.tpot_ns()).map(|v| v as f64).collect()),
            e2e_ns: sorted(
                ok().map(|s| s.done_ns.saturating_sub(s.scheduled_ns) as f64)
                    .collect(),
            ),
            scenario,
        }
    }

    /// The Server scenario (Interactive is Server with other limits).
    pub fn is_server(&self) -> bool {
        self.scenario == "Server"
    }

    /// A percentile of the records' TTFT, in ms.
    pub fn ttft_ms(&self, p: f64) -> Option<f64> {
        percentile(&self.ttft_ns, p).map(|v| v / 1e6)
    }

    /// A percentile of the records' TPOT, in ms.
    pub fn tpot_ms(&self, p: f64) -> Option<f64> {
        percentile(&self.tpot_ns, p).map(|v| v / 1e6)
    }
}

/// A number as the report prints it: at most 3 decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let text = if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    text
}
