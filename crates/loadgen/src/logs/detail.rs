//! `mlperf_log_detail.txt`: one `:::MLLOG {...}` line per event, in
//! LoadGen's exact shape (strings unescaped, doubles as `%g`, booleans as
//! true/false, index vectors as `[a,b]`). The `file`/`line_no` metadata
//! repeats what LoadGen 6.0.17 prints for each key, so the file reads the
//! same to the submission checker and to a diff.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Instant;

use super::fmt::g6;

const SOURCES: &str = include_str!("../../data/detail_sources.tsv");

fn sources() -> &'static HashMap<&'static str, (&'static str, u32)> {
    static MAP: OnceLock<HashMap<&'static str, (&'static str, u32)>> = OnceLock::new();
    MAP.get_or_init(|| {
        SOURCES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut it = l.split('\t');
                let key = it.next()?;
                let file = it.next()?;
                let line = it.next()?.parse().ok()?;
                Some((key, (file, line)))
            })
            .collect()
    })
}

/// A value as LoadGen's detail logger formats it.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    Str(&'a str),
    Int(i128),
    Double(f64),
    Bool(bool),
    Indices(&'a [usize]),
    /// Pre-formatted JSON (e.g. the `loadgen_file_sha1` map).
    Raw(&'a str),
}

impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::Int(v.into())
    }
}
impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}

/// The detail log being written, plus its error and warning counts (the
/// summary footer and `num_errors` report them).
pub struct DetailLog {
    pub text: String,
    origin: Instant,
    pid: u32,
    pub errors: u64,
    pub warnings: u64,
    /// The text of the first error line, for messages to the user.
    pub first_error: Option<String>,
}

impl DetailLog {
    pub fn new(origin: Instant) -> Self {
        DetailLog {
            text: String::new(),
            origin,
            pid: std::process::id(),
            errors: 0,
            warnings: 0,
            first_error: None,
        }
    }

    fn line(
        &mut self,
        key: &str,
        value: &Value<'_>,
        at: Instant,
        error: bool,
        warning: bool,
        src: (&str, u32),
    ) {
        let ns = at.saturating_duration_since(self.origin).as_nanos();
        let t = &mut self.text;
        let _ = write!(t, ":::MLLOG {{\"key\": \"{key}\", \"value\": ");
        match value {
            Value::Str(s) => {
                let _ = write!(t, "\"{s}\"");
            }
            Value::Int(i) => {
                let _ = write!(t, "{i}");
            }
            Value::Double(d) => t.push_str(&g6(*d)),
            Value::Bool(b) => {
                let _ = write!(t, "{b}");
            }
            Value::Indices(v) => {
                t.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        t.push(',');
                    }
                    let _ = write!(t, "{x}");
                }
                t.push(']');
            }
            Value::Raw(r) => t.push_str(r),
        }
        let _ = writeln!(
            t,
            ", \"time_ms\": {}.{:06}, \"namespace\": \"mlperf::logging\", \"event_type\": \"POINT_IN_TIME\", \"metadata\": {{\"is_error\": {error}, \"is_warning\": {warning}, \"file\": \"{}\", \"line_no\": {}, \"pid\": {}, \"tid\": {}}}}}",
            ns / 1_000_000,
            ns % 1_000_000,
            src.0,
            src.1,
            self.pid,
            self.pid
        );
    }

    fn source(key: &str) -> (&'static str, u32) {
        sources().get(key).copied().unwrap_or(("loadgen.cc", 0))
    }

    /// Logs `key = value` at time `at`.
    pub fn log_at<'a>(&mut self, key: &str, value: impl Into<Value<'a>>, at: Instant) {
        let src = Self::source(key);
        self.line(key, &value.into(), at, false, false, src);
    }

    /// Logs `key = value` now.
    pub fn log<'a>(&mut self, key: &str, value: impl Into<Value<'a>>) {
        self.log_at(key, value, Instant::now());
    }

    /// A `generic_message`, attributed where LoadGen logs that message.
    pub fn message(&mut self, text: &str) {
        let src = match text {
            "Starting performance mode" => ("loadgen.cc", 848),
            "Starting accuracy mode" => ("loadgen.cc", 1101),
            "Starting FindPeakPerformance mode" => ("loadgen.cc", 954),
            t if t.starts_with("FindPeakPerformance: Check validity") => ("loadgen.cc", 977),
            t if t.starts_with("FindBoundaries:") => ("loadgen.cc", 758),
            t if t.starts_with("FindPeakPerformanceBinarySearch:") => ("loadgen.cc", 814),
            t if t.starts_with("FindPeakPerformance: Found boundaries") => ("loadgen.cc", 1050),
            t if t.starts_with("FindPeakPerformance: Found peak") => ("loadgen.cc", 1075),
            _ => ("issue_query_controller.cc", 482),
        };
        self.line(
            "generic_message",
            &Value::Str(text),
            Instant::now(),
            false,
            false,
            src,
        );
    }

    /// An error line (`error_runtime`, `error_invalid_config`, ...).
    pub fn error(&mut self, key: &str, text: &str) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| text.to_string());
        let src = Self::source(key);
        self.line(key, &Value::Str(text), Instant::now(), true, false, src);
    }

    /// A `warning_generic_message` line.
    pub fn warning(&mut self, text: &str) {
        self.warnings += 1;
        let src = Self::source("warning_generic_message");
        self.line(
            "warning_generic_message",
            &Value::Str(text),
            Instant::now(),
            false,
            true,
            src,
        );
    }
}
