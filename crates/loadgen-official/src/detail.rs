//! Reading the detail log LoadGen wrote (`mlperf_log_detail.txt`): what the
//! submission checker reads from it (errors, warnings, the result), so a
//! run reports LoadGen's verdict the same way for both LoadGens.

use std::collections::BTreeMap;
use std::path::Path;

/// The parts of a detail log a run report needs.
#[derive(Clone, Debug, Default)]
pub struct DetailLog {
    /// Entries with `metadata.is_error` true.
    pub errors: u64,
    /// Entries with `metadata.is_warning` true.
    pub warnings: u64,
    /// The first error's value, as text.
    pub first_error: Option<String>,
    /// Each key's first value, as the checker indexes them.
    pub values: BTreeMap<String, serde_json::Value>,
}

impl DetailLog {
    /// Reads `path`; a line that is not `:::MLLOG {json}` is an error naming it.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading LoadGen's detail log {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a detail log.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut log = DetailLog::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let json = line
                .strip_prefix(":::MLLOG ")
                .ok_or_else(|| format!("line {} does not start with :::MLLOG", i + 1))?;
            let entry: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| format!("line {} is not JSON: {e}", i + 1))?;
            let meta = &entry["metadata"];
            let value = entry["value"].clone();
            if meta["is_error"].as_bool() == Some(true) {
                log.errors += 1;
                if log.first_error.is_none() {
                    log.first_error = Some(match &value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
            }
            if meta["is_warning"].as_bool() == Some(true) {
                log.warnings += 1;
            }
            if let Some(key) = entry["key"].as_str() {
                log.values.entry(key.to_string()).or_insert(value);
            }
        }
        Ok(log)
    }

    /// `result_validity` is `VALID` (performance runs).
    pub fn result_valid(&self) -> Option<bool> {
        self.values
            .get("result_validity")
            .and_then(|v| v.as_str())
            .map(|v| v == "VALID")
    }
}
