//! The tests' `audit.config` files (data, from upstream-gptoss.md §8) and the
//! verification scripts' own reading of their thresholds.
//!
//! LoadGen reads the LoadGen keys (`loadgen::ConfigFile`); the thresholds
//! (`test07_accuracy_threshold`, `test09_min/max_output_tokens`) are read by the
//! verification scripts with a simpler parser of their own, reproduced here: a
//! line is `key = value` split at the first `=`; the setting is the last
//! dot-separated part of a key with at least three parts; the value goes through
//! Python's `float()`; the last occurrence wins. TEST09's reader strips an inline
//! `# comment` from the value, TEST07's does not (such a value is invalid there).

use crate::pychars::strip;
use crate::pyjson::float_repr;

/// TEST07's audit.config for gpt-oss-120b.
pub const TEST07_AUDIT_CONFIG: &str = include_str!("../../data/compliance/TEST07.audit.config");
/// TEST09's audit.config for gpt-oss-120b.
pub const TEST09_AUDIT_CONFIG: &str = include_str!("../../data/compliance/TEST09.audit.config");

/// The values a verification script found, and the warnings it prints.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Thresholds {
    /// TEST07's accuracy threshold.
    pub accuracy: Option<f64>,
    /// TEST09's lower bound on the mean output length.
    pub min_output_tokens: Option<f64>,
    /// TEST09's upper bound on the mean output length.
    pub max_output_tokens: Option<f64>,
    /// Warnings as the script prints them.
    pub warnings: Vec<String>,
}

/// Which script's parser to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// TEST07: reads `test07_accuracy_threshold`; inline comments are part of the value.
    Test07,
    /// TEST09: reads `test09_min_output_tokens` / `test09_max_output_tokens`;
    /// strips inline comments.
    Test09,
}

/// Reads the thresholds out of an audit.config's text.
pub fn thresholds(text: &str, reader: Reader) -> Thresholds {
    let mut found = Thresholds::default();
    for line in text.lines() {
        let line = strip(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, mut value) = (strip(key), strip(value));
        if reader == Reader::Test09 {
            if let Some((before, _)) = value.split_once('#') {
                value = strip(before);
            }
        }
        let parts: Vec<&str> = key.split('.').collect();
        if parts.len() < 3 {
            continue;
        }
        let (slot, invalid) = match (reader, parts[parts.len() - 1]) {
            (Reader::Test07, "test07_accuracy_threshold") => (
                &mut found.accuracy,
                "Invalid threshold value in audit.config",
            ),
            (Reader::Test09, "test09_min_output_tokens") => (
                &mut found.min_output_tokens,
                "Invalid min_output_tokens value",
            ),
            (Reader::Test09, "test09_max_output_tokens") => (
                &mut found.max_output_tokens,
                "Invalid max_output_tokens value",
            ),
            _ => continue,
        };
        match py_float(value) {
            Some(v) => *slot = Some(v),
            None => found.warnings.push(format!("Warning: {invalid}: {value}")),
        }
    }
    found
}

/// Python's `float(str)` for the strings an audit.config can hold: surrounding
/// whitespace, a sign, digits with single underscores between them, a point, an
/// exponent, or `inf`/`infinity`/`nan` in any case. `None` where Python raises.
pub fn py_float(text: &str) -> Option<f64> {
    let t = strip(text);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w))
    {
        return t.parse().ok();
    }
    let bytes = unsigned.as_bytes();
    let mut plain = String::with_capacity(t.len());
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' | b'.' | b'e' | b'E' => plain.push(b as char),
            b'+' | b'-' if i > 0 && matches!(bytes[i - 1], b'e' | b'E') => plain.push(b as char),
            b'_' => {
                let digit = |j: Option<&u8>| j.is_some_and(|c| c.is_ascii_digit());
                if !(i > 0 && digit(bytes.get(i - 1)) && digit(bytes.get(i + 1))) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if !plain.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let sign = if t.starts_with('-') { "-" } else { "" };
    format!("{sign}{plain}").parse().ok()
}

/// How the scripts print a threshold: Python's `str(float)`.
pub fn show(value: f64) -> String {
    float_repr(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_configs_hold_the_specified_thresholds() {
        let t07 = thresholds(TEST07_AUDIT_CONFIG, Reader::Test07);
        assert_eq!(t07.accuracy, Some(60.698));
        assert!(t07.warnings.is_empty());
        let t09 = thresholds(TEST09_AUDIT_CONFIG, Reader::Test09);
        assert_eq!(
            (t09.min_output_tokens, t09.max_output_tokens),
            (Some(1150.38), Some(1406.02))
        );
        // The LoadGen side of both files is valid for LoadGen's own reader.
        for text in [TEST07_AUDIT_CONFIG, TEST09_AUDIT_CONFIG] {
            assert!(loadgen::ConfigFile::parse(text, "audit.config").is_ok());
        }
    }

    #[test]
    fn inline_comments_follow_each_script() {
        let text = "*.*.test09_min_output_tokens = 1150.38 # 1278.2 * 0.90\n\
                    *.*.test09_max_output_tokens = 1406.02\n\
                    *.*.test07_accuracy_threshold = 60.698 # note\n";
        let t09 = thresholds(text, Reader::Test09);
        assert_eq!(t09.min_output_tokens, Some(1150.38));
        assert_eq!(t09.max_output_tokens, Some(1406.02));
        let t07 = thresholds(text, Reader::Test07);
        assert_eq!(t07.accuracy, None);
        assert_eq!(
            t07.warnings,
            ["Warning: Invalid threshold value in audit.config: 60.698 # note"]
        );
    }

    #[test]
    fn keys_need_three_parts_and_the_last_value_wins() {
        let text = "test07_accuracy_threshold = 1\n\
                    gpt.test07_accuracy_threshold = 2\n\
                    # *.*.test07_accuracy_threshold = 3\n\
                    *.*.test07_accuracy_threshold=4\n\
                    a.b.c.test07_accuracy_threshold = 5_0.5\n";
        assert_eq!(thresholds(text, Reader::Test07).accuracy, Some(50.5));
    }

    #[test]
    fn python_float_rules() {
        for (s, v) in [
            (" 60.698 ", Some(60.698)),
            ("1e3", Some(1000.0)),
            ("+.5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1_000", Some(1000.0)),
            ("-2", Some(-2.0)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("", None),
            ("abc", None),
            ("1.2.3", None),
            ("0x10", None),
            ("+-1", None),
            ("1e-2", Some(0.01)),
        ] {
            assert_eq!(py_float(s), v, "{s:?}");
        }
        assert_eq!(py_float("INF"), Some(f64::INFINITY));
        assert!(py_float("nan").is_some_and(f64::is_nan));
    }
}
