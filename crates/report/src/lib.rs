//! The self-contained HTML report of MLPerf GPT-OSS runs.
//!
//! [`Run::read`] reads a run folder into a typed model, tolerating what is
//! missing or broken: LoadGen's summary, detail and accuracy logs (ours or the
//! official LoadGen's), `run`'s `samples.jsonl`, `results.json` (and its
//! `energy`), `server_metrics.jsonl` and `power.jsonl`, `eval`'s
//! output (the `--output-file` JSON or the printed table) and compliance
//! verify files. Whatever cannot be read becomes a note in the report.
//! [`render`] turns one or more runs into one HTML file: charts drawn by
//! `plotters` as inline SVG, the page from a minijinja template embedded in
//! the crate, no script, no font, no network.
//!
//! ```no_run
//! let run = report::Run::read(std::path::Path::new("mlperf_results/server/performance"))?;
//! let html = report::render(&[run])?;
//! std::fs::write("report.html", html)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: `read` (one reader per file kind), `stats` (percentiles, bins),
//! `charts` (plotters), `sections` (one module per report section),
//! `render` (the template).

mod charts;
mod read;
mod render;
mod sections;
mod stats;

use std::path::{Path, PathBuf};

pub use read::samples::Sample;
pub use read::Run;
pub use render::render;
pub use sections::selfcheck::SelfCheck;

/// Why no report could be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run folder does not exist.
    #[error("{0}: no such folder; pass the folder that `run` or `compliance` wrote (e.g. mlperf_results/server/performance)")]
    NotAFolder(PathBuf),
    /// The folder holds none of the files a run leaves.
    #[error("{0}: nothing to report: no mlperf_log_summary.txt, mlperf_log_detail.txt, mlperf_log_accuracy.json, samples.jsonl, eval output or verify file in it or its subfolders; pass the folder that `run` or `compliance` wrote")]
    NothingToReport(PathBuf),
    /// The template failed (a bug: the template is part of the crate).
    #[error("rendering the report: {0}")]
    Template(#[from] minijinja::Error),
    /// The report could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The report's path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// Reads every folder, renders them and writes the report to `out`; returns the
/// notes of what could not be read, per folder.
pub fn write_report(
    dirs: &[PathBuf],
    out: &Path,
) -> Result<Vec<(PathBuf, Vec<String>)>, ReportError> {
    let runs = dirs
        .iter()
        .map(|d| Run::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let html = render(&runs)?;
    std::fs::write(out, html).map_err(|source| ReportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(runs.into_iter().map(|r| (r.dir, r.notes)).collect())
}

/// The client self-check of the run in `dir`, from its `samples.jsonl`.
pub fn self_check(dir: &Path) -> Option<SelfCheck> {
    let run = Run::read(dir).ok()?;
    let facts = sections::facts::Facts::of(&run);
    SelfCheck::new(&run.samples.as_ref()?.samples, &facts)
}
