//! AIME: `parse_aime_answer` and `evaluate_aime` of the official scorer, with
//! Python's `int()` on the extracted digits and on the ground truth.

use memchr::memmem;

use crate::pychars::{char_at, digit_value, is_word, literal_ci, skip_space, strip};

/// CPython's default `sys.get_int_max_str_digits()`: `int()` of a longer digit string
/// raises `ValueError` (Python 3.11+).
pub const PY_INT_MAX_STR_DIGITS: usize = 4300;
/// What LiveCodeBench's `compute_code_generation_metrics.py` sets when it is imported,
/// which the official scorer does (before any dataset is scored) whenever a
/// `livecodebench` dataset is in the log.
pub const LCB_INT_MAX_STR_DIGITS: usize = 50_000;

/// `parse_aime_answer`: the last `\boxed{N}`, else the last `Answer: N`, as an int in
/// 0..=999. `max_digits` is Python's int-string limit in force (see the constants).
pub fn parse_aime_answer(text: &str, max_digits: usize) -> Option<u32> {
    let text = strip(text);
    if text.is_empty() {
        return None;
    }
    let digits = last_boxed(text).or_else(|| last_answer(text))?;
    match py_int(digits, max_digits) {
        Ok(Some(v)) if (0..=999).contains(&v) => Some(v as u32),
        _ => None,
    }
}

/// Length in bytes of the run of Python `\d` characters at `i`.
fn digit_run(s: &str, i: usize) -> usize {
    s[i..]
        .char_indices()
        .find(|&(_, c)| digit_value(c).is_none())
        .map_or(s.len() - i, |(j, _)| j)
}

/// [`crate::patterns::AIME_BOXED`], last match. Spaces, digits and `}` are disjoint
/// classes, so each start has at most one way to match; matches cannot overlap
/// (each holds exactly one backslash), so the last matching start is the last match.
pub(crate) fn last_boxed(s: &str) -> Option<&str> {
    let mut found = None;
    for p in memmem::find_iter(s.as_bytes(), b"\\boxed{") {
        let start = skip_space(s, p + 7);
        let n = digit_run(s, start);
        if n == 0 {
            continue;
        }
        if char_at(s, skip_space(s, start + n)) == Some('}') {
            found = Some(&s[start..start + n]);
        }
    }
    found
}

/// [`crate::patterns::AIME_ANSWER`], last match. Backtracking `\d+` to a shorter run
/// leaves a digit next, and `\b` between two digits fails, so only the whole run can
/// match: it needs a following character that is neither `.` nor a word character.
pub(crate) fn last_answer(s: &str) -> Option<&str> {
    let mut found = None;
    for p in memchr::memchr2_iter(b'a', b'A', s.as_bytes()) {
        let Some(end) = literal_ci(s, p, "answer") else {
            continue;
        };
        if char_at(s, end) != Some(':') {
            continue;
        }
        let start = skip_space(s, end + 1);
        let n = digit_run(s, start);
        if n == 0 {
            continue;
        }
        match char_at(s, start + n) {
            Some(c) if c == '.' || is_word(c) => {}
            _ => found = Some(&s[start..start + n]),
        }
    }
    found
}

/// Python's `int()` raised `ValueError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnInt;

/// Python `int(s)` for a str: `Err` where Python raises `ValueError`, `Ok(None)`
/// for a valid integer beyond i64 (never equal to an AIME answer).
pub fn py_int(s: &str, max_digits: usize) -> Result<Option<i64>, NotAnInt> {
    let s = strip(s);
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: Option<i64> = Some(0);
    let mut digits = 0usize;
    let mut prev_underscore = true; // no leading underscore
    for c in body.chars() {
        if c == '_' {
            if prev_underscore {
                return Err(NotAnInt);
            }
            prev_underscore = true;
            continue;
        }
        let d = digit_value(c).ok_or(NotAnInt)?;
        prev_underscore = false;
        digits += 1;
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(i64::from(d)));
    }
    if digits == 0 || prev_underscore {
        return Err(NotAnInt);
    }
    // CPython checks the limit only above 640 digits, counting leading zeros.
    if digits > 640 && digits > max_digits {
        return Err(NotAnInt);
    }
    Ok(value.map(|v| if negative { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int() {
        assert_eq!(py_int(" 70\n", 4300), Ok(Some(70)));
        assert_eq!(py_int("+0_70", 4300), Ok(Some(70)));
        assert_eq!(py_int("-0", 4300), Ok(Some(0)));
        assert_eq!(py_int("٧٠", 4300), Ok(Some(70)));
        assert_eq!(py_int("7__0", 4300), Err(NotAnInt));
        assert_eq!(py_int("70_", 4300), Err(NotAnInt));
        assert_eq!(py_int("70.0", 4300), Err(NotAnInt));
        assert_eq!(py_int("", 4300), Err(NotAnInt));
        assert_eq!(py_int(&"0".repeat(4301), 4300), Err(NotAnInt));
        assert_eq!(py_int(&"0".repeat(4301), 50_000), Ok(Some(0)));
        assert_eq!(py_int(&"9".repeat(30), 4300), Ok(None));
    }

    #[test]
    fn parse() {
        assert_eq!(
            parse_aime_answer("\\boxed{ 12 } then \\boxed{34}", 4300),
            Some(34)
        );
        assert_eq!(parse_aime_answer("\\boxed{1000}", 4300), None);
        // A boxed match that int() rejects does not fall back to "Answer:".
        assert_eq!(parse_aime_answer("Answer: 5 \\boxed{1000}", 4300), None);
        assert_eq!(parse_aime_answer("answer:7\nANSWER: 8.", 4300), Some(7));
        assert_eq!(parse_aime_answer("Answer: 12.5", 4300), None);
        assert_eq!(parse_aime_answer("Answer: 12a", 4300), None);
        assert_eq!(parse_aime_answer("FinalAnswer: 0012,", 4300), Some(12));
        assert_eq!(parse_aime_answer("Answer : 3", 4300), None);
    }
}
