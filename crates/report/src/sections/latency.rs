//! Latency: TTFT and TPOT histograms and CDFs against the scenario's limit
//! with the p99 marked, early stopping in numbers (through the `loadgen`
//! crate's own criterion), and LoadGen's percentile table. Logs without
//! `samples.jsonl` (the official harness) draw LoadGen's percentiles instead.

use loadgen::{EarlyStoppingEstimate, PERCENTILES};
use serde::Serialize;

use super::facts::{num, Facts};
use crate::charts::{self, Chart, Marker, Series};
use crate::read::Run;
use crate::stats::{cdf, percentile, Histogram, HISTOGRAM_BINS};

/// One latency metric (TTFT or TPOT) from the records.
#[derive(Serialize)]
pub struct Metric {
    /// `TTFT` / `TPOT`.
    pub name: &'static str,
    /// Samples measured.
    pub count: usize,
    /// The scenario's limit, in ms.
    pub limit_ms: Option<String>,
    /// p50 / p99 / max of the records, in ms (LoadGen's percentile rule).
    pub p50_ms: String,
    /// p99 of the records, in ms.
    pub p99_ms: String,
    /// Largest, in ms.
    pub max_ms: String,
    /// p99 as LoadGen's summary reports it, in ms.
    pub loadgen_p99_ms: Option<String>,
    /// Early stopping over the records (Server only).
    pub early: Option<Early>,
    /// The histogram and the CDF.
    pub charts: Vec<Chart>,
}

/// Early stopping in numbers.
#[derive(Serialize)]
pub struct Early {
    /// Queries over the limit.
    pub overlatency: i64,
    /// Queries issued.
    pub issued: i64,
    /// Queries the run needed with that many over the limit.
    pub needed: i64,
    /// How many more (all under the limit) passing would have taken.
    pub more: i64,
    /// Enough queries.
    pub passed: bool,
}

/// LoadGen's own early-stopping text for one metric.
#[derive(Serialize)]
pub struct LoadGenEarly {
    /// `TTFT`, `TPOT` or `latency`.
    pub label: String,
    /// The summary's lines.
    pub text: String,
    /// "Would need to run at least N more queries": N.
    pub more_needed: Option<u64>,
}

/// The latency section.
#[derive(Serialize)]
pub struct Latency {
    /// TTFT and TPOT from the records.
    pub metrics: Vec<Metric>,
    /// LoadGen's percentiles: header then rows of (percentile, e2e, TTFT, TPOT) in ms.
    pub table: Vec<Vec<String>>,
    /// LoadGen's early-stopping texts.
    pub loadgen_early: Vec<LoadGenEarly>,
    /// Charts of LoadGen's percentiles (logs without records).
    pub quantile_charts: Vec<Chart>,
}

/// (name, summary key suffix, min key, max key)
const FAMILIES: [(&str, &str, &str, &str); 3] = [
    (
        "e2e",
        "latency (ns)",
        "Min latency (ns)",
        "Max latency (ns)",
    ),
    (
        "TTFT",
        "first token latency (ns)",
        "Min First Token latency (ns)",
        "Max First Token latency (ns)",
    ),
    (
        "TPOT",
        "time to output token (ns)",
        "Min Time per Output Token (ns)",
        "Max Time per Output Token (ns)",
    ),
];

/// LoadGen's percentile label: 0.999 → `99.90`.
fn label(p: f64) -> String {
    format!("{:.2}", p * 100.0)
}

/// Builds the section; `None` when there is no latency to show.
pub fn build(run: &Run, facts: &Facts) -> Option<Latency> {
    let mut metrics = Vec::new();
    let summary = run.summary.as_ref();
    for (name, values, limit, family) in [
        ("TTFT", &facts.ttft_ns, facts.ttft_limit_ns, FAMILIES[1]),
        ("TPOT", &facts.tpot_ns, facts.tpot_limit_ns, FAMILIES[2]),
    ] {
        if values.is_empty() {
            continue;
        }
        metrics.push(metric(
            name,
            values,
            limit,
            facts,
            summary.and_then(|s| {
                s.number(&format!(
                    "{} percentile {}",
                    label(facts.target_percentile),
                    family.1
                ))
            }),
        ));
    }

    let mut table = Vec::new();
    let mut quantile_charts = Vec::new();
    if let Some(s) = summary {
        let families: Vec<_> = FAMILIES
            .iter()
            .filter(|f| {
                s.get(&format!("{} percentile {}", label(0.5), f.1))
                    .is_some()
            })
            .collect();
        if !families.is_empty() {
            let mut header = vec!["percentile".to_string()];
            header.extend(families.iter().map(|f| format!("{} (ms)", f.0)));
            table.push(header);
            for p in PERCENTILES {
                let mut row = vec![label(p)];
                for f in &families {
                    let v = s.number(&format!("{} percentile {}", label(p), f.1));
                    row.push(v.map_or("-".into(), |v| num(v / 1e6)));
                }
                table.push(row);
            }
        }
        if run.samples.is_none() {
            for f in families.iter().filter(|f| f.0 != "e2e") {
                let mut points: Vec<(f64, f64)> = Vec::new();
                if let Some(min) = s.number(f.2) {
                    points.push((min / 1e6, 0.0));
                }
                for p in PERCENTILES {
                    if let Some(v) = s.number(&format!("{} percentile {}", label(p), f.1)) {
                        points.push((v / 1e6, p));
                    }
                }
                if let Some(max) = s.number(f.3) {
                    points.push((max / 1e6, 1.0));
                }
                let limit = if f.0 == "TTFT" {
                    facts.ttft_limit_ns
                } else {
                    facts.tpot_limit_ns
                };
                let markers: Vec<Marker> = limit
                    .filter(|_| facts.is_server())
                    .map(|l| Marker {
                        label: format!("limit {} ms", num(l / 1e6)),
                        x: l / 1e6,
                        is_limit: true,
                    })
                    .into_iter()
                    .collect();
                quantile_charts.push(charts::lines(
                    &format!("{}-quantiles", f.0.to_lowercase()),
                    "cdf",
                    &format!("{}: LoadGen's percentiles", f.0),
                    ("ms", "fraction of samples"),
                    &[Series {
                        name: f.0.to_string(),
                        points,
                    }],
                    &markers,
                    None,
                ));
            }
        }
    }
    let loadgen_early: Vec<LoadGenEarly> = summary
        .map(|s| {
            s.early_stopping
                .iter()
                .filter(|b| !b.lines.is_empty())
                .map(|b| LoadGenEarly {
                    label: if b.label.is_empty() {
                        "latency".into()
                    } else {
                        b.label.clone()
                    },
                    text: b.lines.join(" "),
                    more_needed: b.more_needed,
                })
                .collect()
        })
        .unwrap_or_default();
    if metrics.is_empty() && table.is_empty() && loadgen_early.is_empty() {
        return None;
    }
    Some(Latency {
        metrics,
        table,
        loadgen_early,
        quantile_charts,
    })
}

fn metric(
    name: &'static str,
    sorted_ns: &[f64],
    limit_ns: Option<f64>,
    facts: &Facts,
    loadgen_p99: Option<f64>,
) -> Metric {
    let ms: Vec<f64> = sorted_ns.iter().map(|v| v / 1e6).collect();
    let p = facts.target_percentile;
    let p99 = percentile(&ms, p).unwrap_or(0.0);
    let limit_ms = limit_ns.filter(|_| facts.is_server()).map(|l| l / 1e6);
    let mut markers = vec![Marker {
        label: format!("p{} {} ms", num(p * 100.0), num(p99)),
        x: p99,
        is_limit: false,
    }];
    if let Some(l) = limit_ms {
        markers.push(Marker {
            label: format!("limit {} ms", num(l)),
            x: l,
            is_limit: true,
        });
    }
    let id = name.to_lowercase();
    let hist = Histogram::new(&ms, HISTOGRAM_BINS);
    let charts = vec![
        charts::histogram(
            &format!("{id}-hist"),
            &format!("{name} histogram"),
            "ms",
            &hist,
            &markers,
        ),
        charts::lines(
            &format!("{id}-cdf"),
            "cdf",
            &format!("{name} CDF"),
            ("ms", "fraction of samples"),
            &[Series {
                name: name.to_string(),
                points: cdf(&ms),
            }],
            &markers,
            None,
        ),
    ];
    let early = match (limit_ns, facts.queries_issued) {
        (Some(limit), Some(issued)) if facts.is_server() => {
            let as_i64: Vec<i64> = sorted_ns.iter().map(|&v| v as i64).collect();
            let e = EarlyStoppingEstimate::new(&as_i64, limit as i64, issued, p);
            Some(Early {
                overlatency: e.overlatency,
                issued,
                needed: e.queries_needed,
                more: e.more_needed,
                passed: e.passed(),
            })
        }
        _ => None,
    };
    Metric {
        name,
        count: ms.len(),
        limit_ms: limit_ms.map(num),
        p50_ms: num(percentile(&ms, 0.5).unwrap_or(0.0)),
        p99_ms: num(p99),
        max_ms: num(ms.last().copied().unwrap_or(0.0)),
        loadgen_p99_ms: loadgen_p99.map(|v| num(v / 1e6)),
        early,
        charts,
    }
}
