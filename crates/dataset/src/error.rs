//! The one error type of the crate. Every message names the file, and where it applies the
//! row (0-based, as pandas shows it) and column, and ends with what to do about it.

use std::path::PathBuf;

/// Anything that can go wrong reading or writing a dataset file.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: file not found; check the path (datasets are not downloaded automatically)", path.display())]
    NotFound { path: PathBuf },

    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },

    #[error("{}: unknown file extension; supported extensions are .pkl/.pickle (pandas pickle), .parquet and .jsonl", path.display())]
    UnknownFormat { path: PathBuf },

    #[error("{}: no column {wanted}; the file has columns: {available}", path.display())]
    MissingColumn {
        path: PathBuf,
        /// The column(s) looked for, already quoted.
        wanted: String,
        available: String,
    },

    #[error("{}: row {row}, column '{column}': {problem}; {fix}", path.display())]
    Cell {
        path: PathBuf,
        row: usize,
        column: String,
        problem: String,
        fix: String,
    },

    #[error("{}: cannot read the pandas pickle: {detail}; {fix}", path.display())]
    Pickle {
        path: PathBuf,
        detail: String,
        fix: &'static str,
    },

    #[error("{}: cannot read the Parquet file: {detail}; check that the file is complete (re-download or re-export it)", path.display())]
    Parquet { path: PathBuf, detail: String },

    #[error("{}: line {line}: {detail}; fix or remove that line (each line must be one JSON object)", path.display())]
    JsonLine {
        path: PathBuf,
        line: usize,
        detail: String,
    },

    #[error("{}: cannot write: {detail}", path.display())]
    Write { path: PathBuf, detail: String },
}
