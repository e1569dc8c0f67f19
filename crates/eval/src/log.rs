//! LoadGen's `mlperf_log_accuracy.json`: a JSON array of
//! `{"seq_id", "qsl_idx", "data", ["token_data",] "token_count"}` entries whose `data`
//! is the response bytes in hex (int32 token ids, little-endian).
//!
//! Like the official scorer, only `data` is read: in the Server scenario the first
//! token lives in `token_data` and is *not* scored (upstream-gptoss.md §5.3, §6.1).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::pyjson::Json;
use crate::EvalError;

/// The log file's bytes; entries borrow their hex from it.
pub struct AccuracyLog {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// One entry of the log.
#[derive(Debug)]
pub struct LogEntry<'a> {
    /// Position in the log (0-based), for messages.
    pub position: usize,
    /// LoadGen's `seq_id`, as written.
    pub seq_id: Json,
    /// The reference row this entry answers.
    pub qsl_idx: u64,
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    seq_id: serde_json::Value,
    qsl_idx: serde_json::Value,
    #[serde(borrow)]
    data: Cow<'a, str>,
}

impl AccuracyLog {
    /// Reads the file (parsing waits for [`AccuracyLog::entries`]).
    pub fn read(path: &Path) -> Result<AccuracyLog, EvalError> {
        let bytes = std::fs::read(path).map_err(|source| EvalError::LogIo {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(AccuracyLog {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// A log held in memory (`path` only names it in messages).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> AccuracyLog {
        AccuracyLog {
            path: path.to_path_buf(),
            bytes,
        }
    }

    /// The file the log was read from, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries in file order.
    pub fn entries(&self) -> Result<Vec<LogEntry<'_>>, EvalError> {
        let raw: Vec<RawEntry<'_>> =
            serde_json::from_slice(&self.bytes).map_err(|e| EvalError::LogFormat {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        raw.into_iter()
            .enumerate()
            .map(|(position, r)| {
                let seq_id = json_of(&r.seq_id);
                let qsl_idx = r.qsl_idx.as_u64().ok_or_else(|| EvalError::LogEntry {
                    path: self.path.clone(),
                    entry: position,
                    seq_id: r.seq_id.to_string(),
                    qsl_idx: r.qsl_idx.to_string(),
                    detail: "qsl_idx must be a non-negative integer (a row of the reference data)"
                        .into(),
                })?;
                Ok(LogEntry {
                    position,
                    seq_id,
                    qsl_idx,
                    data: r.data,
                })
            })
            .collect()
    }

    /// The error for an entry, naming it.
    pub fn entry_error(&self, entry: &LogEntry<'_>, detail: String) -> EvalError {
        EvalError::LogEntry {
            path: self.path.clone(),
            entry: entry.position,
            seq_id: entry.seq_id.dump(),
            qsl_idx: entry.qsl_idx.to_string(),
            detail,
        }
    }
}

impl LogEntry<'_> {
    /// The token ids in `data`: Python's `bytes.fromhex` (either case, ASCII whitespace
    /// allowed between bytes), then `struct.unpack('<{n}i')`, which needs a whole
    /// number of int32s.
    pub fn token_ids(&self) -> Result<Vec<i32>, String> {
        let bytes = crate::pychars::fromhex(&self.data).map_err(|e| {
            format!("'data' is not hex: {e}; the log is damaged (re-run the accuracy test)")
        })?;
        if bytes.len() % 4 != 0 {
            return Err(format!(
                "'data' holds {} bytes, not a whole number of int32 token ids; the log is damaged (re-run the accuracy test)",
                bytes.len()
            ));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

fn json_of(v: &serde_json::Value) -> Json {
    match v {
        serde_json::Value::Null => Json::Null,
        serde_json::Value::Bool(b) => Json::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Json::Int(i.into()),
            (_, Some(u), _) => Json::Int(u.into()),
            (_, _, Some(f)) => Json::Float(f),
            _ => Json::Null,
        },
        serde_json::Value::String(s) => Json::Str(s.clone()),
        serde_json::Value::Array(a) => Json::Arr(a.iter().map(json_of).collect()),
        serde_json::Value::Object(o) => {
            Json::Obj(o.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}
