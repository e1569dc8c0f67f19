//! `mlperf_log_detail.txt`: one `:::MLLOG {...}` event per line. LoadGen does
//! not JSON-escape strings, so a line that is not valid JSON is still read
//! for its key and raw value; a line that has neither is counted as unreadable.

use serde_json::Value;

/// One event of the detail log.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The event's key (`result_validity`, `error_runtime`, …).
    pub key: String,
    /// The value; a string value that was not valid JSON is kept as its raw text.
    pub value: Value,
    /// Milliseconds since the log started.
    pub time_ms: Option<f64>,
    /// `metadata.is_error`.
    pub is_error: bool,
    /// `metadata.is_warning`.
    pub is_warning: bool,
}

/// The events of a detail log, and the lines that could not be read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetailLog {
    /// Events in file order.
    pub events: Vec<Event>,
    /// 1-based numbers of the lines that were not events.
    pub bad_lines: Vec<usize>,
}

impl DetailLog {
    /// Reads every `:::MLLOG` line of `text`.
    pub fn parse(text: &str) -> DetailLog {
        let mut log = DetailLog::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match line.strip_prefix(":::MLLOG ").and_then(parse_event) {
                Some(event) => log.events.push(event),
                None => log.bad_lines.push(i + 1),
            }
        }
        log
    }

    /// The first event of `key` (the submission checker also takes the first).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.events.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The first value of `key` as text (strings unquoted, others as JSON).
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// The first value of `key` as a number (numbers, or strings that hold one).
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The events LoadGen flagged as errors or warnings.
    pub fn flagged(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.is_error || e.is_warning)
    }
}

fn parse_event(json: &str) -> Option<Event> {
    if let Ok(v) = serde_json::from_str::<Value>(json) {
        let flag = |name: &str| v["metadata"][name].as_bool().unwrap_or(false);
        return Some(Event {
            key: v["key"].as_str()?.to_string(),
            value: v["value"].clone(),
            time_ms: v["time_ms"].as_f64(),
            is_error: flag("is_error"),
            is_warning: flag("is_warning"),
        });
    }
    // Not JSON (an unescaped quote or backslash in a string): take the parts by their fixed frame.
    let rest = json.strip_prefix("{\"key\": \"")?;
    let (key, rest) = rest.split_once("\", \"value\": ")?;
    let (raw, rest) = rest.split_once(", \"time_ms\": ")?;
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let time_ms = rest.split(',').next().and_then(|t| t.trim().parse().ok());
    // The metadata must be there too, or the line was cut short.
    let (_, meta) = rest.split_once("\"metadata\": ")?;
    meta.trim_end().strip_suffix("}}")?;
    Some(Event {
        key: key.to_string(),
        value: Value::String(raw.to_string()),
        time_ms,
        is_error: meta.contains("\"is_error\": true"),
        is_warning: meta.contains("\"is_warning\": true"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaped_strings_and_cut_lines() {
        let text = concat!(
            ":::MLLOG {\"key\": \"result_validity\", \"value\": \"VALID\", \"time_ms\": 1.000000, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {\"is_error\": false, \"is_warning\": false, \"file\": \"a\", \"line_no\": 1, \"pid\": 1, \"tid\": 1}}\n",
            ":::MLLOG {\"key\": \"error_runtime\", \"value\": \"path C:\\x \"quoted\"\", \"time_ms\": 2.500000, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {\"is_error\": true, \"is_warning\": false, \"file\": \"a\", \"line_no\": 1, \"pid\": 1, \"tid\": 1}}\n",
            ":::MLLOG {\"key\": \"num_errors\", \"value\": 1, \"time_ms\": 3.0",
        );
        let d = DetailLog::parse(text);
        assert_eq!(d.text("result_validity").as_deref(), Some("VALID"));
        assert_eq!(d.events.len(), 2);
        assert!(d.events[1].is_error);
        assert_eq!(
            d.text("error_runtime").as_deref(),
            Some("path C:\\x \"quoted\"")
        );
        assert_eq!(d.bad_lines, [3]);
        assert_eq!(d.flagged().count(), 1);
    }
}
