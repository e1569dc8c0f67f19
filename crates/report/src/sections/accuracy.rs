//! Accuracy: per dataset and in total against the submission target (from
//! the `eval` crate), and the compliance verdicts.

use serde::Serialize;

use crate::read::scores::Verify;
use crate::read::Run;

/// The accuracy section.
#[derive(Serialize)]
pub struct Accuracy {
    /// (dataset, correct, total, accuracy %).
    pub rows: Vec<(String, u64, u64, String)>,
    /// The repeat-weighted score, when eval printed one.
    pub exact_match: Option<String>,
    /// The submission target.
    pub target: String,
    /// The score reaches the target.
    pub pass: Option<bool>,
    /// Compliance verify files.
    pub compliance: Vec<Verify>,
}

/// Builds the section; `None` with neither a score nor a verify file.
pub fn build(run: &Run) -> Option<Accuracy> {
    if run.score.is_none() && run.verifies.is_empty() {
        return None;
    }
    let target = eval::accuracy_target();
    let rows = run
        .score
        .iter()
        .flat_map(|s| &s.datasets)
        .map(|d| {
            let pct = if d.total > 0 {
                d.correct as f64 / d.total as f64 * 100.0
            } else {
                0.0
            };
            (d.name.clone(), d.correct, d.total, format!("{pct:.2}"))
        })
        .collect();
    let exact = run.score.as_ref().and_then(|s| s.exact_match);
    Some(Accuracy {
        rows,
        exact_match: exact.map(|v| format!("{v:.3}")),
        target: format!("{target:.4}"),
        pass: exact.map(|v| v >= target),
        compliance: run.verifies.clone(),
    })
}
