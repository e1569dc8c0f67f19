//! File formats, chosen by extension, and the atomic write every writer goes through.

use std::io::Write;
use std::path::Path;

use crate::error::DatasetError;

/// A dataset file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A pandas DataFrame pickle (`.pkl`, `.pickle`).
    Pickle,
    /// Apache Parquet (`.parquet`).
    Parquet,
    /// JSON Lines, one object per row (`.jsonl`).
    Jsonl,
}

impl Format {
    /// The format for `path`'s extension (case-insensitive).
    pub fn from_path(path: &Path) -> Result<Format, DatasetError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("pkl") | Some("pickle") => Ok(Format::Pickle),
            Some("parquet") => Ok(Format::Parquet),
            Some("jsonl") => Ok(Format::Jsonl),
            _ => Err(DatasetError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Writes through a temporary file in the same directory, renamed over `path` only once
/// `fill` succeeded, so a failure never leaves a half-written dataset behind.
pub(crate) fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<(), DatasetError>,
) -> Result<(), DatasetError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let io = |action: &'static str| {
        move |source| DatasetError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dataset-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io("creating a temporary file beside it"))?;
    fill(tmp.as_file_mut())?;
    tmp.as_file_mut().flush().map_err(io("writing"))?;
    tmp.as_file().sync_all().map_err(io("syncing"))?;
    tmp.persist(path).map_err(|e| DatasetError::Io {
        path: path.to_path_buf(),
        action: "renaming the temporary file into place",
        source: e.error,
    })?;
    Ok(())
}
