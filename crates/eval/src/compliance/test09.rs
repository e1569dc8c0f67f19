//! TEST09: output length in performance mode. Every entry of the accuracy log
//! counts the 4-byte little-endian values of its hex `data` (so in the Server
//! scenario the first token, kept in `token_data`, is not counted); an entry
//! without `data` counts 0. The mean over all entries must lie within the
//! bounds. The log is read as the official script reads it: a JSON array, or,
//! when that fails (a run that died mid-write), line by line, taking every
//! complete JSON value on each line.

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use super::audit::show;
use crate::EvalError;

/// Output lengths of a log's entries, in log order, and the warnings the
/// official script prints while reading them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OutputLengths {
    /// Output tokens per entry (an entry that fails to decode counts 0).
    pub lengths: Vec<usize>,
    /// How the log was read ("Loaded N entries as JSON array" …).
    pub notes: Vec<String>,
    /// Warnings as the official script prints them.
    pub warnings: Vec<String>,
}

/// Reads the accuracy log and counts each entry's output tokens.
pub fn read_output_lengths(path: &Path) -> Result<OutputLengths, EvalError> {
    let text = std::fs::read(path).map_err(|source| EvalError::LogIo {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&text);
    let mut out = OutputLengths::default();
    let entries = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(entries)) => {
            out.notes
                .push(format!("Loaded {} entries as JSON array", entries.len()));
            entries
        }
        _ => {
            let entries = entries_by_line(&text, &mut out.warnings);
            out.notes
                .push(format!("Loaded {} entries from MLPerf log", entries.len()));
            entries
        }
    };
    for (position, entry) in entries.iter().enumerate() {
        let Value::Object(fields) = entry else {
            return Err(EvalError::LogFormat {
                path: path.to_path_buf(),
                detail: format!("entry {position} is not a JSON object: {entry}"),
            });
        };
        let length = match fields.get("data") {
            Some(Value::String(hex)) if !hex.is_empty() => match fromhex_len(hex) {
                Ok(bytes) => bytes / 4,
                Err(e) => {
                    out.warnings.push(decode_warning(fields.get("qsl_idx"), &e));
                    0
                }
            },
            // Python: a falsy `data` (missing, null, "", 0, [], {}) counts 0; any
            // other non-string fails `.strip()` and is warned about.
            None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Bool(false)) => 0,
            Some(Value::Array(a)) if a.is_empty() => 0,
            Some(Value::Object(o)) if o.is_empty() => 0,
            Some(Value::Number(n)) if n.as_f64() == Some(0.0) => 0,
            Some(other) => {
                let kind = match other {
                    Value::Bool(_) => "bool",
                    Value::Number(n) if n.is_f64() => "float",
                    Value::Number(_) => "int",
                    Value::Array(_) => "list",
                    _ => "dict",
                };
                let e = format!("'{kind}' object has no attribute 'strip'");
                out.warnings.push(decode_warning(fields.get("qsl_idx"), &e));
                0
            }
        };
        out.lengths.push(length);
    }
    Ok(out)
}

fn decode_warning(qsl_idx: Option<&Value>, error: &str) -> String {
    // Python's str() of the value.
    let idx = match qsl_idx {
        None | Some(Value::Null) => "None".into(),
        Some(Value::Bool(b)) => if *b { "True" } else { "False" }.into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_f64() => show(n.as_f64().unwrap_or(f64::NAN)),
        Some(other) => other.to_string(),
    };
    format!("Warning: Error decoding entry {idx}: {error}")
}

/// Every complete JSON value of every line (JSONL, or LoadGen's own lines
/// `{...},` of a log that was cut short).
fn entries_by_line(text: &str, warnings: &mut Vec<String>) -> Vec<Value> {
    let mut entries = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = crate::pychars::strip(line);
        if line.is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            entries.push(v);
            continue;
        }
        let mut parsed = 0;
        for value in serde_json::Deserializer::from_str(line).into_iter::<Value>() {
            match value {
                Ok(v) => {
                    entries.push(v);
                    parsed += 1;
                }
                Err(_) => break,
            }
        }
        if parsed == 0 {
            warnings.push(format!("Warning: Line {}: Could not parse JSON", n + 1));
        }
    }
    entries
}

/// Python's `len(bytes.fromhex(s.strip()))`, the byte count TEST09 divides by 4.
fn fromhex_len(hex: &str) -> Result<usize, String> {
    crate::pychars::fromhex(crate::pychars::strip(hex))
        .map(|bytes| bytes.len())
        .map_err(|e| e.to_string())
}

/// The outcome of TEST09 and what the official script prints and writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Mean output length.
    pub mean: f64,
    /// The mean is within the bounds.
    pub pass: bool,
    /// The statistics and verdict lines printed on stdout.
    pub stdout: String,
    /// The whole text of `verify_output_len.txt`.
    pub verify_text: String,
}

/// Checks the mean output length against `[min, max]`. `lengths` must not be
/// empty (the official script stops with an error before this point).
pub fn verify(lengths: &[usize], min: f64, max: f64) -> Report {
    let n = lengths.len();
    let mean = lengths.iter().sum::<usize>() as f64 / n.max(1) as f64;
    let variance = lengths
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n.max(1) as f64;
    let std_dev = variance.powf(0.5);
    let lo = lengths.iter().min().copied().unwrap_or(0);
    let hi = lengths.iter().max().copied().unwrap_or(0);
    let (min_pass, max_pass) = (mean >= min, mean <= max);
    let pass = min_pass && max_pass;
    let verdict = if pass { "TEST PASS" } else { "TEST FAIL" };
    let py_bool = |b: bool| if b { "True" } else { "False" };
    let word = |b: bool| if b { "PASS" } else { "FAIL" };
    let eq = "=".repeat(80);
    let stats = format!(
        "Total samples: {n}\nMean output tokens: {mean:.2}\nMin output tokens: {lo}\n\
         Max output tokens: {hi}\nStd deviation: {std_dev:.2}\n"
    );

    let mut stdout = String::new();
    let _ = write!(
        stdout,
        "\n{eq}\nOutput Token Length Statistics\n{eq}\n{stats}\n{eq}\nVerification Results\n{eq}\n"
    );
    let _ = write!(
        stdout,
        "Mean output tokens: {mean:.2}\nMin threshold: {} -> {}\nMax threshold: {} -> {}\n\nOverall: {verdict}\n",
        show(min),
        word(min_pass),
        show(max),
        word(max_pass)
    );

    let mut text = String::new();
    let _ = write!(
        text,
        "{eq}\nTEST09: Verify Output Token Length in Performance Mode\n{eq}\n\n\
         Output Token Length Statistics\n{}\n{stats}\n{eq}\nVerification Results\n{eq}\n",
        "-".repeat(40)
    );
    let _ = write!(
        text,
        "Mean output tokens: {mean:.2}\nMin threshold: {}\nMax threshold: {}\n\
         Min check pass: {}\nMax check pass: {}\n\n{verdict}\n",
        show(min),
        show(max),
        py_bool(min_pass),
        py_bool(max_pass)
    );
    Report {
        mean,
        pass,
        stdout,
        verify_text: text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertical_tab_between_pairs_is_whitespace() {
        // Python: len(bytes.fromhex('0a\x0b0b'.strip())) == 2, so the official
        // script counts this entry instead of warning about it.
        assert_eq!(fromhex_len("0a\u{b}0b"), Ok(2));
    }

    #[test]
    fn hex_as_python_fromhex() {
        assert_eq!(fromhex_len("0A000000"), Ok(4));
        assert_eq!(fromhex_len(" 0a 00 00 00\n"), Ok(4));
        assert_eq!(fromhex_len("0A0000"), Ok(3));
        assert_eq!(
            fromhex_len("0G"),
            Err("non-hexadecimal number found in fromhex() arg at position 1".into())
        );
        assert_eq!(
            fromhex_len("0 A"),
            Err("non-hexadecimal number found in fromhex() arg at position 1".into())
        );
        assert_eq!(
            fromhex_len("ABC"),
            Err("non-hexadecimal number found in fromhex() arg at position 3".into())
        );
    }

    #[test]
    fn bounds_are_inclusive_and_printed_as_python() {
        let r = verify(&[1150, 1151], 1150.5, 1406.02);
        assert!(r.pass);
        assert!(r.verify_text.ends_with(
            "Mean output tokens: 1150.50\nMin threshold: 1150.5\nMax threshold: 1406.02\n\
             Min check pass: True\nMax check pass: True\n\nTEST PASS\n"
        ));
        let r = verify(&[2000], 1150.38, 1406.02);
        assert!(!r.pass);
        assert!(r
            .stdout
            .contains("Max threshold: 1406.02 -> FAIL\n\nOverall: TEST FAIL\n"));
        assert!(r
            .verify_text
            .ends_with("Max check pass: False\n\nTEST FAIL\n"));
    }

    #[test]
    fn statistics_are_population_statistics() {
        let r = verify(&[1, 2, 3, 4], 0.0, 10.0);
        assert_eq!(r.mean, 2.5);
        assert!(r.verify_text.contains(
            "Total samples: 4\nMean output tokens: 2.50\nMin output tokens: 1\nMax output tokens: 4\nStd deviation: 1.12\n"
        ));
    }
}
