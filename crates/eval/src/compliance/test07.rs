//! TEST07: accuracy in performance mode. The scorer's output (its stdout and
//! stderr, as the official script captures them) is searched for
//! `'exact_match':\s*([\d.]+)`; the number, as Python's `float()` reads it, must
//! be at least the threshold. Note that the printed score is rounded to three
//! decimals, and that rounded value is what is compared.

use std::fmt::Write;

use super::audit::{py_float, show};
use crate::pychars::is_space;

/// The outcome of TEST07.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The parsed score, or `None` where the output has no readable score line.
    pub score: Option<f64>,
    /// The accuracy the score must reach.
    pub threshold: f64,
    /// The score reaches the threshold.
    pub pass: bool,
}

/// The first `'exact_match':` line's score as the official pattern and `float()`
/// read it (Python `\s` and `\d` are Unicode classes).
pub fn parse_score(output: &str) -> Option<f64> {
    const KEY: &str = "'exact_match':";
    let mut from = 0;
    while let Some(at) = output[from..].find(KEY) {
        let rest = output[from + at + KEY.len()..].trim_start_matches(is_space);
        let number: String = rest
            .chars()
            .take_while(|&c| c == '.' || crate::pychars::digit_value(c).is_some())
            .collect();
        if !number.is_empty() {
            // `float()` reads Unicode decimal digits as their values.
            let ascii: String = number
                .chars()
                .map(|c| match crate::pychars::digit_value(c) {
                    Some(d) => char::from_digit(d, 10).unwrap_or(c),
                    None => c,
                })
                .collect();
            return py_float(&ascii);
        }
        from += at + KEY.len();
    }
    None
}

/// Grades `scorer_output` and returns the verdict and the whole text of
/// `verify_accuracy.txt`: the scorer's output followed by the summary block.
pub fn verify(scorer_output: &str, threshold: f64) -> (Verdict, String) {
    let score = parse_score(scorer_output);
    let pass = score.is_some_and(|s| s >= threshold);
    let eq = "=".repeat(80);
    let mut text = String::from(scorer_output);
    let _ = write!(text, "\n{eq}\nTEST07 Verification Summary\n{eq}\n");
    match score {
        Some(s) => {
            let _ = writeln!(text, "Accuracy score: {}", show(s));
            let _ = writeln!(text, "Accuracy threshold: {}", show(threshold));
            let _ = writeln!(
                text,
                "Accuracy check pass: {}",
                if pass { "True" } else { "False" }
            );
            text.push_str(if pass { "TEST PASS\n" } else { "TEST FAIL\n" });
        }
        None => text.push_str("Error: Could not parse accuracy score\nTEST FAIL\n"),
    }
    (
        Verdict {
            score,
            threshold,
            pass,
        },
        text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounded_printed_score_is_compared() {
        // 60.6975 prints as 60.698 (or 60.697): the printed digits decide.
        let (v, text) = verify("\n'exact_match': 60.698\n", 60.698);
        assert!(v.pass);
        assert!(text.ends_with(
            "Accuracy score: 60.698\nAccuracy threshold: 60.698\nAccuracy check pass: True\nTEST PASS\n"
        ));
        let (v, text) = verify("'exact_match': 60.697", 60.698);
        assert!(!v.pass);
        assert!(text.ends_with("Accuracy check pass: False\nTEST FAIL\n"));
    }

    #[test]
    fn python_str_of_the_float_is_printed() {
        let (v, text) = verify("'exact_match': 100.000\n", 60.698);
        assert_eq!(v.score, Some(100.0));
        assert!(text.contains("Accuracy score: 100.0\n"));
    }

    #[test]
    fn a_missing_or_unreadable_score_fails() {
        for output in [
            "",
            "error: cannot read the log",
            "'exact_match': abc",
            "'exact_match': 1.2.3",
        ] {
            let (v, text) = verify(output, 60.698);
            assert_eq!(v.score, None, "{output:?}");
            assert!(text.ends_with(
                "TEST07 Verification Summary\n================================================================================\nError: Could not parse accuracy score\nTEST FAIL\n"
            ));
        }
    }

    #[test]
    fn whitespace_after_the_colon_is_any_amount() {
        assert_eq!(parse_score("'exact_match':70.5"), Some(70.5));
        assert_eq!(parse_score("x 'exact_match':\n\t 70.5 y"), Some(70.5));
        // The first match counts, as re.search.
        assert_eq!(
            parse_score("'exact_match': 1.0\n'exact_match': 99.0"),
            Some(1.0)
        );
    }
}
