//! Failures: the samples whose request failed, with their errors.

use serde::Serialize;

use crate::read::samples::Sample;

/// Rows shown at most; the rest are counted.
pub const MAX_ROWS: usize = 500;

/// The failures section.
#[derive(Serialize)]
pub struct Failures {
    /// Failed samples in all.
    pub total: usize,
    /// (id, QSL index, seconds since start, error), the first [`MAX_ROWS`].
    pub rows: Vec<(u64, usize, String, String)>,
}

/// Builds the section; `None` when nothing failed.
pub fn build(samples: &[Sample]) -> Option<Failures> {
    let failed: Vec<&Sample> = samples.iter().filter(|s| s.error.is_some()).collect();
    if failed.is_empty() {
        return None;
    }
    Some(Failures {
        total: failed.len(),
        rows: failed
            .iter()
            .take(MAX_ROWS)
            .map(|s| {
                (
                    s.id,
                    s.index,
                    format!("{:.3}", s.done_ns as f64 / 1e9),
                    s.error.clone().unwrap_or_default(),
                )
            })
            .collect(),
    })
}
