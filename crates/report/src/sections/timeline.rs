//! Timeline from the records: queries scheduled, issued and done over time,
//! requests in flight, tokens per second, and each sample's first token and
//! completion; beside them, on the same x axis, the servers' running and
//! queued requests and KV usage (`server_metrics.jsonl`) and GPU watts
//! (`power.jsonl`). The measured window (first to last scheduled query) is
//! shaded on every chart.

use serde::Serialize;

use crate::charts::{self, Chart, Series, TimeAxis};
use crate::read::samples::Sample;
use crate::read::telemetry::TelemetryFile;
use crate::stats::{thin, TimeBins};

use super::telemetry;

/// The timeline section.
#[derive(Serialize)]
pub struct Timeline {
    /// Bin width, in seconds.
    pub bin_s: String,
    /// The charts.
    pub charts: Vec<Chart>,
}

fn s(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Builds the section; `None` without records.
pub fn build(
    samples: &[Sample],
    server: Option<&TelemetryFile>,
    power: Option<&TelemetryFile>,
) -> Option<Timeline> {
    if samples.is_empty() {
        return None;
    }
    // One x range for every chart: the records' and the telemetry's (the
    // last scrape is taken after the last completion).
    let telemetry_end = [server, power]
        .into_iter()
        .flatten()
        .flat_map(|f| f.readings.iter().map(|r| s(r.t_ns)))
        .fold(0.0, f64::max);
    let end = samples
        .iter()
        .map(|x| s(x.done_ns))
        .fold(telemetry_end, f64::max);
    let bins = TimeBins::new(end);
    let window = {
        let first = samples
            .iter()
            .map(|x| s(x.scheduled_ns))
            .fold(f64::INFINITY, f64::min);
        let last = samples
            .iter()
            .map(|x| s(x.scheduled_ns))
            .fold(0.0, f64::max);
        Some((first, last.max(first)))
    };
    let axis = TimeAxis {
        range: (0.0, end),
        window,
    };
    let at_ends = |counts: Vec<u64>| -> Vec<(f64, f64)> {
        counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (bins.end_of(i), c as f64))
            .collect()
    };
    let scheduled = bins.cumulative(samples.iter().map(|x| s(x.scheduled_ns)));
    let issued = bins.cumulative(samples.iter().map(|x| s(x.issued_ns)));
    let done = bins.cumulative(samples.iter().map(|x| s(x.done_ns)));
    let in_flight: Vec<u64> = issued
        .iter()
        .zip(&done)
        .map(|(i, d)| i.saturating_sub(*d))
        .collect();

    // Tokens/s: each sample's tokens spread evenly over the bins from its first token to its end.
    let mut diff = vec![0.0f64; bins.count + 1];
    for x in samples.iter().filter(|x| x.output_tokens > 0) {
        let (a, b) = (
            bins.index(s(x.first_token_ns.unwrap_or(x.done_ns))),
            bins.index(s(x.done_ns)),
        );
        let per_bin = x.output_tokens as f64 / (b - a + 1) as f64 / bins.width;
        diff[a] += per_bin;
        diff[b + 1] -= per_bin;
    }
    let rate: Vec<(f64, f64)> = diff[..bins.count]
        .iter()
        .scan(0.0, |acc, d| {
            *acc += d;
            Some(*acc)
        })
        .enumerate()
        .map(|(i, r)| (bins.end_of(i), r.max(0.0)))
        .collect();

    let first_tokens: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|x| Some((s(x.first_token_ns?), s(x.ttft_ns()?))))
        .collect();
    let dones: Vec<(f64, f64)> = samples
        .iter()
        .map(|x| (s(x.done_ns), s(x.done_ns.saturating_sub(x.scheduled_ns))))
        .collect();

    let mut charts = vec![
        charts::lines(
            "timeline-issue",
            "line",
            "Queries scheduled, issued and done",
            ("seconds since start", "queries"),
            &[
                Series {
                    name: "scheduled".into(),
                    points: at_ends(scheduled),
                },
                Series {
                    name: "issued".into(),
                    points: at_ends(issued),
                },
                Series {
                    name: "done".into(),
                    points: at_ends(done),
                },
            ],
            &[],
            Some(axis),
        ),
        charts::lines(
            "timeline-inflight",
            "line",
            "Requests in flight",
            ("seconds since start", "requests"),
            &[Series {
                name: "in flight".into(),
                points: at_ends(in_flight),
            }],
            &[],
            Some(axis),
        ),
        charts::lines(
            "timeline-tokens",
            "line",
            "Output tokens per second",
            ("seconds since start", "tokens/s"),
            &[Series {
                name: "tokens/s".into(),
                points: rate,
            }],
            &[],
            Some(axis),
        ),
        charts::scatter(
            "timeline-scatter",
            "First token and done, by latency",
            ("seconds since start", "seconds since scheduled"),
            &[
                Series {
                    name: "first token (TTFT)".into(),
                    points: thin(&first_tokens),
                },
                Series {
                    name: "done (e2e)".into(),
                    points: thin(&dones),
                },
            ],
            axis,
        ),
    ];
    charts.extend(telemetry::charts(server, power, &bins, axis));
    Some(Timeline {
        bin_s: format!("{:.3}", bins.width),
        charts,
    })
}
