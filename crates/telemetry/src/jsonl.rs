//! An append-only JSON-lines file, flushed after every record so a crash
//! loses nothing already written (as `samples.jsonl`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// One `.jsonl` file being written.
pub struct JsonLines {
    path: PathBuf,
    file: BufWriter<File>,
    failed: bool,
}

impl JsonLines {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> Result<JsonLines, Error> {
        let file = File::create(path).map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })?;
        Ok(JsonLines {
            path: path.to_owned(),
            file: BufWriter::new(file),
            failed: false,
        })
    }

    /// Appends one record; the first failure is logged, the rest are quiet.
    pub fn append(&mut self, record: &impl serde::Serialize) {
        let written = serde_json::to_writer(&mut self.file, record)
            .map_err(std::io::Error::from)
            .and_then(|()| self.file.write_all(b"\n"))
            .and_then(|()| self.file.flush());
        if let Err(e) = written {
            if !self.failed {
                tracing::error!("cannot append to {}: {e}", self.path.display());
            }
            self.failed = true;
        }
    }
}
