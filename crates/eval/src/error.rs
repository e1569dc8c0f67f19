//! The crate's error type: every message names the file, the log entry or the
//! reference row, and what to do.

use std::path::PathBuf;

/// Anything that stops an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{}: cannot read the accuracy log: {source}", path.display())]
    LogIo {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },

    #[error("{}: not a LoadGen accuracy log ({detail}); pass the mlperf_log_accuracy.json written by an accuracy-mode run", path.display())]
    LogFormat { path: PathBuf, detail: String },

    #[error("{}: entry {entry} (seq_id {seq_id}, qsl_idx {qsl_idx}): {detail}", path.display())]
    LogEntry {
        path: PathBuf,
        entry: usize,
        seq_id: String,
        qsl_idx: String,
        detail: String,
    },

    #[error("reference data: {0}")]
    Dataset(#[from] dataset::DatasetError),

    #[error("{}: reference data missing required columns: {missing}; the accuracy dataset (acc_eval_ref.parquet) has 'dataset' and 'ground_truth'", path.display())]
    MissingColumns { path: PathBuf, missing: String },

    #[error("{}: row {row}, column '{column}': {detail}", path.display())]
    Row {
        path: PathBuf,
        row: usize,
        column: &'static str,
        detail: String,
    },

    #[error("dataset '{dataset}': {detail}")]
    Unsupported { dataset: String, detail: String },

    #[error("compliance: {0}")]
    Compliance(String),

    #[error("{}: none of the LiveCodeBench release_v6 files ({expected}) is there; pass the directory of a copy of Hugging Face livecodebench/code_generation_lite", dir.display())]
    LcbFiles { dir: PathBuf, expected: String },

    #[error("{}:{line}: {detail}; use an unmodified copy of livecodebench/code_generation_lite", path.display())]
    LcbProblem {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    #[error("LiveCodeBench: {detail}")]
    LcbHarness { detail: String },

    #[error("dataset '{dataset}': the LiveCodeBench total budget of {budget_s} s ran out with {done} of {total} samples done; \
             the official scorer aborts here too (as_completed timeout=1200) and prints no score. \
             Use more workers (--workers) or lift the budget with --lcb-total-timeout 0 (not the official rule)")]
    LcbBudget {
        dataset: String,
        done: usize,
        total: usize,
        budget_s: u64,
    },

    #[error("cannot decode token ids: {0}")]
    Decode(String),
}
