//! The one error type of the crate. Every message names the file, and where it applies the
//! row (0-based, as pandas shows it) and column, and ends with what to do about it.

use std::path::PathBuf;

/// Anything that can go wrong reading or writing a dataset file. Each variant keeps its
/// parts apart so a caller can act on them; `Display` puts them into one sentence.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file does not exist (datasets are never downloaded for the user).
    #[error("{}: file not found; check the path (datasets are not downloaded automatically)", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },

    /// The operating system refused to read or write the file.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`reading`, `opening`, `writing`, ...).
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The extension names none of the supported formats.
    #[error("{}: unknown file extension; supported extensions are .pkl/.pickle (pandas pickle), .parquet and .jsonl", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },

    /// A column the caller needs is absent.
    #[error("{}: no column {wanted}; the file has columns: {available}", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column(s) looked for, already quoted.
        wanted: String,
        /// The file's columns, quoted and comma-separated, so the user sees the near miss.
        available: String,
    },

    /// One cell holds something its column cannot have.
    #[error("{}: row {row}, column '{column}': {problem}; {fix}", path.display())]
    Cell {
        /// The file.
        path: PathBuf,
        /// The row, 0-based as pandas shows it.
        row: usize,
        /// The column's name.
        column: String,
        /// What is wrong with the cell.
        problem: String,
        /// What the user can do about it.
        fix: String,
    },

    /// The pickle is not a DataFrame this reader accepts, or is damaged.
    #[error("{}: cannot read the pandas pickle: {detail}; {fix}", path.display())]
    Pickle {
        /// The file.
        path: PathBuf,
        /// What was found, or where the bytes stopped making sense.
        detail: String,
        /// What the user can do about it.
        fix: &'static str,
    },

    /// The Parquet library could not read the file.
    #[error("{}: cannot read the Parquet file: {detail}; check that the file is complete (re-download or re-export it)", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The library's own words.
        detail: String,
    },

    /// One line of a JSON Lines file is not a JSON object.
    #[error("{}: line {line}: {detail}; fix or remove that line (each line must be one JSON object)", path.display())]
    JsonLine {
        /// The file.
        path: PathBuf,
        /// The line, 1-based as editors show it.
        line: usize,
        /// What is wrong with it.
        detail: String,
    },

    /// The table cannot be stored in the requested format.
    #[error("{}: cannot write: {detail}", path.display())]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// Why, naming the column and row where one is at fault.
        detail: String,
    },
}
