//! The crate's error type: every message names the file, the log entry or the
//! reference row, and what to do.

use std::path::PathBuf;

/// Anything that stops an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The accuracy log cannot be read.
    #[error("{}: cannot read the accuracy log: {source}", path.display())]
    LogIo {
        /// The log.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },

    /// Another file operation failed.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done ("write", "create directory", …).
        action: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },

    /// The log is not a LoadGen accuracy log.
    #[error("{}: not a LoadGen accuracy log ({detail}); pass the mlperf_log_accuracy.json written by an accuracy-mode run", path.display())]
    LogFormat {
        /// The log.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },

    /// One entry of the log is damaged.
    #[error("{}: entry {entry} (seq_id {seq_id}, qsl_idx {qsl_idx}): {detail}", path.display())]
    LogEntry {
        /// The log.
        path: PathBuf,
        /// Position of the entry in the log (0-based).
        entry: usize,
        /// Its `seq_id`, as written.
        seq_id: String,
        /// Its `qsl_idx`, as written.
        qsl_idx: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The reference data cannot be read.
    #[error("reference data: {0}")]
    Dataset(#[from] dataset::DatasetError),

    /// The reference data lacks `dataset` or `ground_truth`.
    #[error("{}: reference data missing required columns: {missing}; the accuracy dataset (acc_eval_ref.parquet) has 'dataset' and 'ground_truth'", path.display())]
    MissingColumns {
        /// The reference data.
        path: PathBuf,
        /// The missing column names.
        missing: String,
    },

    /// One cell of the reference data is unusable.
    #[error("{}: row {row}, column '{column}': {detail}", path.display())]
    Row {
        /// The reference data.
        path: PathBuf,
        /// The row (0-based, as pandas counts).
        row: usize,
        /// The column.
        column: &'static str,
        /// What is wrong with the cell.
        detail: String,
    },

    /// A dataset no grader here handles.
    #[error("dataset '{dataset}': {detail}")]
    Unsupported {
        /// The dataset name.
        dataset: String,
        /// Why it cannot be graded.
        detail: String,
    },

    /// A compliance test cannot be verified.
    #[error("compliance: {0}")]
    Compliance(String),

    /// No LiveCodeBench problems file in the directory.
    #[error("{}: none of the LiveCodeBench release_v6 files ({expected}) is there; pass the directory of a copy of Hugging Face livecodebench/code_generation_lite", dir.display())]
    LcbFiles {
        /// The directory given.
        dir: PathBuf,
        /// The file names looked for.
        expected: String,
    },

    /// One LiveCodeBench problem is damaged.
    #[error("{}:{line}: {detail}; use an unmodified copy of livecodebench/code_generation_lite", path.display())]
    LcbProblem {
        /// The problems file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong with the problem.
        detail: String,
    },

    /// The LiveCodeBench harness cannot run (no usable python3).
    #[error("LiveCodeBench: {detail}")]
    LcbHarness {
        /// What went wrong.
        detail: String,
    },

    /// The LiveCodeBench budget ran out, as the official scorer's timeout does.
    #[error("dataset '{dataset}': the LiveCodeBench total budget of {budget_s} s ran out with {done} of {total} samples done; \
             the official scorer aborts here too (as_completed timeout=1200) and prints no score. \
             Use more workers (--workers) or lift the budget with --lcb-total-timeout 0 (not the official rule)")]
    LcbBudget {
        /// The dataset.
        dataset: String,
        /// Samples finished.
        done: usize,
        /// Samples in the dataset.
        total: usize,
        /// The budget in seconds.
        budget_s: u64,
    },

    /// Token ids the tokenizer cannot decode.
    #[error("cannot decode token ids: {0}")]
    Decode(String),
}
