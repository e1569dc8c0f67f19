//! Comparison of several runs: key figures side by side, TTFT and TPOT CDFs
//! overlaid, and each run's change against the first.

use serde::Serialize;

use super::facts::{num, Facts};
use crate::charts::{self, Chart, Series};
use crate::read::Run;
use crate::stats::cdf;

/// The comparison section.
#[derive(Serialize)]
pub struct Comparison {
    /// Header (metric, run labels…) then one row per metric.
    pub table: Vec<Vec<String>>,
    /// Header (metric, base, run, change, ratio) then one row per metric and run after the first.
    pub deltas: Vec<Vec<String>>,
    /// CDF overlays.
    pub charts: Vec<Chart>,
}

/// A metric compared: its name and each run's value.
type Row = (&'static str, Vec<Option<f64>>);

fn summary_number(run: &Run, keys: &[&str]) -> Option<f64> {
    let s = run.summary.as_ref()?;
    keys.iter().find_map(|k| s.number(k))
}

/// Builds the comparison of two or more runs.
pub fn build(runs: &[(&Run, &Facts)]) -> Option<Comparison> {
    if runs.len() < 2 {
        return None;
    }
    let col = |f: &dyn Fn(&Run, &Facts) -> Option<f64>| -> Vec<Option<f64>> {
        runs.iter().map(|(r, x)| f(r, x)).collect()
    };
    let rows: Vec<Row> = vec![
        (
            "queries issued",
            col(&|_, x| x.queries_issued.map(|q| q as f64)),
        ),
        (
            "failed samples",
            col(&|r, _| {
                r.samples
                    .as_ref()
                    .map(|f| f.samples.iter().filter(|s| s.error.is_some()).count() as f64)
            }),
        ),
        (
            "tokens/s (LoadGen)",
            col(&|r, _| summary_number(r, &["Completed tokens per second", "Tokens per second"])),
        ),
        (
            "samples/s (LoadGen)",
            col(&|r, _| summary_number(r, &["Completed samples per second", "Samples per second"])),
        ),
        (
            "TTFT p50 (ms)",
            col(&|r, x| {
                x.ttft_ms(0.5).or_else(|| {
                    summary_number(r, &["50.00 percentile first token latency (ns)"])
                        .map(|v| v / 1e6)
                })
            }),
        ),
        (
            "TTFT p99 (ms)",
            col(&|r, x| {
                x.ttft_ms(0.99).or_else(|| {
                    summary_number(r, &["99.00 percentile first token latency (ns)"])
                        .map(|v| v / 1e6)
                })
            }),
        ),
        (
            "TPOT p50 (ms)",
            col(&|r, x| {
                x.tpot_ms(0.5).or_else(|| {
                    summary_number(r, &["50.00 percentile time to output token (ns)"])
                        .map(|v| v / 1e6)
                })
            }),
        ),
        (
            "TPOT p99 (ms)",
            col(&|r, x| {
                x.tpot_ms(0.99).or_else(|| {
                    summary_number(r, &["99.00 percentile time to output token (ns)"])
                        .map(|v| v / 1e6)
                })
            }),
        ),
        (
            "exact_match",
            col(&|r, _| r.score.as_ref().and_then(|s| s.exact_match)),
        ),
    ];
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .collect();
    let show = |v: &Option<f64>| v.map_or("-".to_string(), num);

    let mut table = vec![std::iter::once("".to_string())
        .chain(runs.iter().map(|(r, _)| r.label()))
        .collect::<Vec<_>>()];
    table.push(
        std::iter::once("verdict".to_string())
            .chain(runs.iter().map(|(r, _)| {
                r.summary
                    .as_ref()
                    .and_then(|s| s.verdict())
                    .unwrap_or("-")
                    .to_string()
            }))
            .collect(),
    );
    table.push(
        std::iter::once("scenario".to_string())
            .chain(runs.iter().map(|(_, x)| x.scenario.clone()))
            .collect(),
    );
    for (name, values) in &rows {
        table.push(
            std::iter::once(name.to_string())
                .chain(values.iter().map(show))
                .collect(),
        );
    }

    let mut deltas = vec![["metric", "run", "base", "this run", "change", "ratio"]
        .map(str::to_string)
        .to_vec()];
    for (i, (run, _)) in runs.iter().enumerate().skip(1) {
        for (name, values) in &rows {
            if let (Some(base), Some(this)) = (values[0], values[i]) {
                deltas.push(vec![
                    name.to_string(),
                    run.label(),
                    num(base),
                    num(this),
                    format!(
                        "{}{}",
                        if this >= base { "+" } else { "" },
                        num(this - base)
                    ),
                    if base != 0.0 {
                        format!("{:.3}×", this / base)
                    } else {
                        "-".into()
                    },
                ]);
            }
        }
    }

    let mut charts = Vec::new();
    for (id, name, pick) in [
        (
            "compare-ttft-cdf",
            "TTFT",
            (|x: &Facts| &x.ttft_ns) as fn(&Facts) -> &Vec<f64>,
        ),
        ("compare-tpot-cdf", "TPOT", |x: &Facts| &x.tpot_ns),
    ] {
        let series: Vec<Series> = runs
            .iter()
            .filter(|(_, x)| !pick(x).is_empty())
            .map(|(r, x)| Series {
                name: r.label(),
                points: cdf(&pick(x).iter().map(|v| v / 1e6).collect::<Vec<_>>()),
            })
            .collect();
        if !series.is_empty() {
            charts.push(charts::lines(
                id,
                "cdf",
                &format!("{name} CDF, all runs"),
                ("ms", "fraction of samples"),
                &series,
                &[],
                None,
            ));
        }
    }
    Some(Comparison {
        table,
        deltas,
        charts,
    })
}
