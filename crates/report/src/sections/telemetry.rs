//! The telemetry charts of the timeline: the servers' running and queued
//! requests, KV usage (with prefix-cache hits and speculative acceptance
//! where the server reports them) and generation throughput per endpoint,
//! and GPU watts per GPU and in total,
//! on the timeline's own x axis. A `gap` line is a break in every series of
//! its file, so a missed scrape or reading is drawn as a hole, never bridged.

use std::collections::BTreeSet;

use crate::charts::{self, Chart, Series, TimeAxis};
use crate::read::telemetry::{Reading, TelemetryFile};
use crate::stats::{TimeBins, TIME_BINS};

/// The charts for what the run recorded; none for files it did not write.
pub fn charts(
    server: Option<&TelemetryFile>,
    power: Option<&TelemetryFile>,
    bins: &TimeBins,
    axis: TimeAxis,
) -> Vec<Chart> {
    let mut out = Vec::new();
    if let Some(file) = server {
        let urls = endpoints(&file.readings);
        let series_of = |metric: &str, label: &str, scale: f64| -> Vec<Series> {
            urls.iter()
                .map(|url| Series {
                    name: format!("{label} {}", short(url)),
                    points: binned(
                        &points(
                            file.readings
                                .iter()
                                .filter(|r| r.url.as_deref() == Some(url)),
                            |r| r.metrics.get(metric).map(|v| v * scale),
                        ),
                        bins,
                    ),
                })
                .filter(|s| s.points.iter().any(|p| p.1.is_finite()))
                .collect()
        };
        let requests: Vec<Series> = series_of("running", "running", 1.0)
            .into_iter()
            .chain(series_of("queued", "queued", 1.0))
            .collect();
        if !requests.is_empty() {
            out.push(charts::lines(
                "timeline-server-requests",
                "line",
                "Server: requests running and queued",
                ("seconds since start", "requests"),
                &requests,
                &[],
                Some(axis),
            ));
        }
        let ratios: Vec<Series> = series_of("kv_usage", "KV usage", 100.0)
            .into_iter()
            .chain(series_of("prefix_hit_rate", "prefix hits", 100.0))
            .chain(series_of("spec_accept_rate", "spec. accepted", 100.0))
            .collect();
        if !ratios.is_empty() {
            out.push(charts::lines(
                "timeline-server-kv",
                "line",
                "Server: KV cache usage, prefix hits, speculative acceptance",
                ("seconds since start", "%"),
                &ratios,
                &[],
                Some(axis),
            ));
        }
        let tokens = series_of("gen_tokens_per_s", "tokens/s", 1.0);
        if !tokens.is_empty() {
            out.push(charts::lines(
                "timeline-server-tokens",
                "line",
                "Server: generation throughput (its own count)",
                ("seconds since start", "tokens/s"),
                &tokens,
                &[],
                Some(axis),
            ));
        }
    }
    if let Some(file) = power {
        let gpus: BTreeSet<&str> = file
            .readings
            .iter()
            .flat_map(|r| r.watts.keys().map(String::as_str))
            .collect();
        let mut series: Vec<Series> = gpus
            .iter()
            .map(|gpu| Series {
                name: format!("GPU {gpu}"),
                points: binned(
                    &points(file.readings.iter(), |r| r.watts.get(*gpu).copied()),
                    bins,
                ),
            })
            .collect();
        if gpus.len() > 1 {
            series.push(Series {
                name: "total".into(),
                points: binned(
                    &points(file.readings.iter(), |r| {
                        (!r.watts.is_empty()).then(|| r.watts.values().sum())
                    }),
                    bins,
                ),
            });
        }
        if !series.is_empty() {
            out.push(charts::lines(
                "timeline-power",
                "line",
                "GPU power",
                ("seconds since start", "watts"),
                &series,
                &[],
                Some(axis),
            ));
        }
    }
    out
}

/// The scraped pages, in the order they first appear.
fn endpoints(readings: &[Reading]) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for url in readings.iter().filter_map(|r| r.url.as_ref()) {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }
    urls
}

/// `host:port` of a page's URL, for legends.
fn short(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// (seconds, value) for each reading that has a value; a break (NaN) for each gap.
fn points<'a>(
    readings: impl Iterator<Item = &'a Reading>,
    value: impl Fn(&Reading) -> Option<f64>,
) -> Vec<(f64, f64)> {
    readings
        .filter_map(|r| {
            let t = r.t_ns as f64 / 1e9;
            if r.gap.is_some() {
                Some((t, f64::NAN))
            } else {
                value(r).map(|v| (t, v))
            }
        })
        .collect()
}

/// The points as they are when there are at most [`TIME_BINS`]; beyond
/// that, the mean of each time bin's points at the bin's middle, breaks kept.
fn binned(points: &[(f64, f64)], bins: &TimeBins) -> Vec<(f64, f64)> {
    if points.iter().filter(|p| p.1.is_finite()).count() <= TIME_BINS {
        return points.to_vec();
    }
    let mut out = Vec::new();
    let mut current: Option<(usize, f64, usize)> = None;
    let flush = |current: &mut Option<(usize, f64, usize)>, out: &mut Vec<(f64, f64)>| {
        if let Some((bin, sum, n)) = current.take() {
            out.push((bins.end_of(bin) - bins.width / 2.0, sum / n as f64));
        }
    };
    for &(t, v) in points {
        if !v.is_finite() {
            flush(&mut current, &mut out);
            out.push((t, f64::NAN));
            continue;
        }
        let bin = bins.index(t);
        match &mut current {
            Some((b, sum, n)) if *b == bin => {
                *sum += v;
                *n += 1;
            }
            _ => {
                flush(&mut current, &mut out);
                current = Some((bin, v, 1));
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_are_binned_and_gaps_kept() {
        let bins = TimeBins::new(100.0);
        let mut pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64 / 10.0, 2.0)).collect();
        pts.insert(500, (50.0, f64::NAN));
        let b = binned(&pts, &bins);
        assert!(b.iter().filter(|p| p.1.is_finite()).count() <= TIME_BINS + 1);
        assert_eq!(b.iter().filter(|p| p.1.is_nan()).count(), 1);
        assert!(b.iter().filter(|p| p.1.is_finite()).all(|p| p.1 == 2.0));
        let short: Vec<(f64, f64)> = pts[..10].to_vec();
        assert_eq!(binned(&short, &bins), short);
    }

    #[test]
    fn legends_name_host_and_port() {
        assert_eq!(short("http://127.0.0.1:30000/metrics"), "127.0.0.1:30000");
        assert_eq!(short("gpu1:9400"), "gpu1:9400");
    }
}
