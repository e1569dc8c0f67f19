//! The `dataset` crate owns the edge where datasets enter and results leave: reading
//! MLPerf GPT-OSS datasets (pandas pickles, Parquet, JSON Lines) into one [`Table`],
//! writing a [`Table`] back in any of the three formats, and pulling out the prompt token
//! ids (`tok_input` / `input_tokens`) and the query column.
//!
//! It does not build prompts (that is `harmony`) or score answers (`eval`).
//!
//! pandas pickles are read by a small pickle *interpreter* that never imports or executes
//! anything: it builds a symbolic graph and recognises only the globals that
//! `DataFrame.to_pickle` uses (pandas 2 and 3, numpy 1 and 2, pyarrow-backed strings).
//! Anything else (`os.system`, ...) is rejected as bad input.
//!
//! ```no_run
//! use std::path::Path;
//! let path = Path::new("acc_eval_ref.parquet");
//! let table = dataset::read_table(path)?;
//! let prompts = dataset::prompt_tokens(&table, path)?;
//! println!("{} samples, first has {} tokens", prompts.len(), prompts[0].len());
//! # Ok::<(), dataset::DatasetError>(())
//! ```
//!
//! Choices worth knowing:
//! * Row order is the file's order (the QSL index). A pickle's non-range row index, or a
//!   Parquet `__index_level_N__` column, is dropped: rows are addressed by position.
//!   Other index kinds (MultiIndex, DatetimeIndex, ...) are rejected with a clear error.
//! * Prompt tokens come from `tok_input` when present, else `input_tokens`: the order of
//!   the reference loader (upstream-gptoss.md §2.2); [`TOKEN_COLUMNS`] holds that order.
//! * Any list whose elements are all integers (Python list, numpy array, Arrow list of any
//!   integer width, JSON array) is `Value::Ints`, including the empty list.
//! * pandas `NaN` in object/float columns is `Float(NaN)`; `None` is `Null`; a missing
//!   Arrow-backed string (pandas 3 `str` dtype) is `Null`. Integers beyond i64 are an error.
//! * A JSON line missing a key gives `Null` for that cell (as pandas does); a JSON Lines
//!   file without rows has no columns.
//! * Writing: pickles put all-int / all-float / all-bool columns in int64 / float64 / bool
//!   blocks and every other column in an object block of plain Python values, built with
//!   the public `numpy.ndarray` so pandas 2 (numpy 1) and pandas 3 (numpy 2) both load it
//!   without warnings (a pandas-3 `str` column comes back as `object`, same values).
//!   Parquet stores a column mixing numbers and strings
//!   (like `ref_extracted_answer`) as strings, as pandas/pyarrow must too. JSON Lines
//!   writes NaN as `null`.

mod error;
mod format;
mod jsonl;
mod parquet;
mod pickle;
mod table;
mod tokens;

use std::path::Path;

pub use error::DatasetError;
pub use format::Format;
pub use table::{Column, Table, Value};
pub use tokens::{prompt_tokens, query_column, TOKEN_COLUMNS};

// Kept here for callers that read them next to the dataset; `defs` is their one home.
pub use defs::{QUERY_COLUMNS, VOCAB_SIZE};

/// Internals that only this crate's tests use; not part of the API and may change.
#[doc(hidden)]
pub mod __private {
    /// Every pickle opcode the interpreter and writer name, as `(pickletools name, byte)`,
    /// so a test can compare them with CPython's `pickletools.opcodes`.
    pub fn pickle_opcodes() -> &'static [(&'static str, u8)] {
        crate::pickle::OPCODES
    }

    /// Unpickles one plain Python value (no globals allowed) into a [`crate::Value`],
    /// so a test can run the interpreter on pickles CPython wrote.
    pub fn unpickle_plain_value(data: Vec<u8>) -> Result<crate::Value, String> {
        crate::pickle::read_plain_value(data)
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DatasetError> {
    std::fs::read(path).map_err(|source| io_error(path, "reading", source))
}

fn io_error(path: &Path, action: &'static str, source: std::io::Error) -> DatasetError {
    if source.kind() == std::io::ErrorKind::NotFound {
        DatasetError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        DatasetError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// Reads a dataset file; the format comes from the extension (see [`Format::from_path`]).
pub fn read_table(path: &Path) -> Result<Table, DatasetError> {
    let format = Format::from_path(path)?;
    if !path.exists() {
        return Err(DatasetError::NotFound {
            path: path.to_path_buf(),
        });
    }
    match format {
        Format::Pickle => pickle::read(read_bytes(path)?).map_err(|f| DatasetError::Pickle {
            path: path.to_path_buf(),
            detail: f.detail,
            fix: f.fix,
        }),
        Format::Parquet => parquet::read(path),
        Format::Jsonl => {
            let bytes = read_bytes(path)?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                DatasetError::JsonLine {
                    path: path.to_path_buf(),
                    line: upto.iter().filter(|&&b| b == b'\n').count() + 1,
                    detail: "the text is not valid UTF-8".into(),
                }
            })?;
            jsonl::parse(path, &text)
        }
    }
}

/// Writes `table` in the format given by `path`'s extension, through a temporary file in
/// the same directory that is renamed into place, so a failure never leaves a half file.
pub fn write_table(path: &Path, table: &Table) -> Result<(), DatasetError> {
    let format = Format::from_path(path)?;
    let n = table.num_rows();
    if let Some(c) = table.columns.iter().find(|c| c.values.len() != n) {
        return Err(DatasetError::Write {
            path: path.to_path_buf(),
            detail: format!(
                "column '{}' has {} rows but the first column has {n}; all columns must be equally long",
                c.name,
                c.values.len()
            ),
        });
    }
    format::atomic_write(path, |file| {
        use std::io::Write;
        let io = |source| DatasetError::Io {
            path: path.to_path_buf(),
            action: "writing",
            source,
        };
        match format {
            Format::Pickle => file.write_all(&pickle::to_pickle(table)).map_err(io),
            Format::Jsonl => file.write_all(jsonl::render(table).as_bytes()).map_err(io),
            Format::Parquet => {
                let f = file.try_clone().map_err(io)?;
                parquet::write(table, path, f)
            }
        }
    })
}
