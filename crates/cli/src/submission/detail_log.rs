//! `mlperf_log_detail.txt` as the checker's `LoadgenParser` reads it: the first
//! line must start with `:::MLLOG`, every marked line is JSON, a key's value is
//! its first occurrence, and errors are the lines whose `metadata.is_error` is true.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

const MARKER: &str = ":::MLLOG";

/// The parsed log.
#[derive(Debug, Default)]
pub struct DetailLog {
    values: BTreeMap<String, Value>,
    /// `key: value` of every error line, in order.
    pub errors: Vec<String>,
}

impl DetailLog {
    /// Reads and parses the log; the error says which line is wrong.
    pub fn read(path: &Path) -> Result<DetailLog, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read: {e}"))?;
        Self::parse(&text)
    }

    /// Parses the text of a detail log.
    pub fn parse(text: &str) -> Result<DetailLog, String> {
        if !text.starts_with(MARKER) {
            return Err(format!("the first line does not start with {MARKER}"));
        }
        let mut log = DetailLog::default();
        for (number, line) in text.lines().enumerate() {
            let Some(json) = line.strip_prefix(MARKER) else {
                continue;
            };
            let record: Value = serde_json::from_str(json.trim())
                .map_err(|e| format!("line {} is not valid JSON: {e}", number + 1))?;
            let key = record["key"].as_str().unwrap_or_default().to_string();
            let value = record.get("value").cloned().unwrap_or(Value::Null);
            if record["metadata"]["is_error"].as_bool() == Some(true) {
                log.errors.push(format!("{key}: {}", text_of(&value)));
            }
            log.values.entry(key).or_insert(value);
        }
        Ok(log)
    }

    /// The first value logged under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The value as text (strings unquoted), or `missing`.
    pub fn text(&self, key: &str) -> String {
        self.get(key).map_or_else(|| "missing".into(), text_of)
    }

    /// The value as a number, when it is one (or a numeric string).
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    /// The value as an exact unsigned integer (the seeds exceed f64's precision).
    pub fn unsigned(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a boolean (`true`/`false`, or 1/0).
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_u64().map(|v| v != 0),
            Value::String(s) => match s.as_str() {
                "true" | "True" | "1" => Some(true),
                "false" | "False" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins_and_errors_are_collected() {
        let text = ":::MLLOG {\"key\": \"a\", \"value\": 1, \"metadata\": {\"is_error\": false}}\n\
                    :::MLLOG {\"key\": \"a\", \"value\": 2, \"metadata\": {\"is_error\": false}}\n\
                    :::MLLOG {\"key\": \"error_x\", \"value\": \"boom\", \"metadata\": {\"is_error\": true}}\n";
        let log = DetailLog::parse(text).unwrap();
        assert_eq!(log.number("a"), Some(1.0));
        assert_eq!(log.errors, vec!["error_x: boom".to_string()]);
        assert!(DetailLog::parse("x\n").is_err());
        assert!(DetailLog::parse(":::MLLOG {bad\n")
            .unwrap_err()
            .contains("line 1"));
    }
}
