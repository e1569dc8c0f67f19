//! Output lengths: the histogram, the mean against TEST09's band (read from
//! the TEST09 audit.config the `eval` crate carries) and the finish reasons.

use eval::compliance::audit::{thresholds, Reader, TEST09_AUDIT_CONFIG};
use serde::Serialize;

use super::facts::num;
use crate::charts::{self, Chart, Marker};
use crate::read::Run;
use crate::stats::{Histogram, HISTOGRAM_BINS};

/// The output-length section.
#[derive(Serialize)]
pub struct Lengths {
    /// Where the lengths come from.
    pub source: String,
    /// Samples counted.
    pub count: usize,
    /// Mean output tokens.
    pub mean: String,
    /// TEST09's band, as `[lo, hi]`.
    pub band: String,
    /// The mean lies in the band.
    pub in_band: bool,
    /// (finish reason, samples).
    pub finish_reasons: Vec<(String, usize)>,
    /// The histogram.
    pub chart: Chart,
}

/// Builds the section from the records (finished samples) or else the accuracy log.
pub fn build(run: &Run) -> Option<Lengths> {
    let samples = run
        .samples
        .as_ref()
        .map(|f| f.samples.as_slice())
        .unwrap_or_default();
    let finished: Vec<usize> = samples
        .iter()
        .filter(|s| s.error.is_none())
        .map(|s| s.output_tokens)
        .collect();
    let (source, lengths) = if !finished.is_empty() {
        (
            "samples.jsonl (finished samples, every generated token)",
            finished,
        )
    } else {
        (
            "mlperf_log_accuracy.json (as TEST09 counts: data bytes / 4)",
            run.logged_output_lengths.clone()?,
        )
    };
    let band = thresholds(TEST09_AUDIT_CONFIG, Reader::Test09);
    let (lo, hi) = (band.min_output_tokens?, band.max_output_tokens?);
    let mean = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for s in samples {
        let reason = match (&s.finish_reason, &s.error) {
            (Some(r), _) => r.clone(),
            (None, Some(_)) => "failed".to_string(),
            (None, None) => "unknown".to_string(),
        };
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => reasons.push((reason, 1)),
        }
    }
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let values: Vec<f64> = lengths.iter().map(|&l| l as f64).collect();
    let chart = charts::histogram(
        "output-hist",
        "Output tokens per sample",
        "output tokens",
        &Histogram::new(&values, HISTOGRAM_BINS),
        &[
            Marker {
                label: format!("mean {}", num(mean)),
                x: mean,
                is_limit: false,
            },
            Marker {
                label: format!("TEST09 min {}", num(lo)),
                x: lo,
                is_limit: true,
            },
            Marker {
                label: format!("TEST09 max {}", num(hi)),
                x: hi,
                is_limit: true,
            },
        ],
    );
    Some(Lengths {
        source: source.to_string(),
        count: lengths.len(),
        mean: num(mean),
        band: format!("[{}, {}]", num(lo), num(hi)),
        in_band: (lo..=hi).contains(&mean),
        finish_reasons: reasons,
        chart,
    })
}
