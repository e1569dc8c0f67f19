//! Which grader a sub-dataset gets, and `evaluate_single_entry` of the official scorer.

use crate::aime::{parse_aime_answer, py_int};
use crate::choice::parse_multiple_choice;
use crate::reference::GroundTruth;

/// The official evaluator table (`DATASET_EVALUATORS` of eval_accuracy.py): the first
/// key, in this order, that is a substring of the lower-cased dataset name.
pub const EVALUATOR_KEYS: [&str; 6] = [
    "gpqa",
    "mmlu_pro",
    "math500",
    "aime",
    "livecodebench",
    "mmlu",
];

/// A sub-dataset's grader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grader {
    /// Multiple choice up to this letter (`D` GPQA, `J` MMLU / MMLU-Pro).
    Choice(char),
    /// AIME: an integer answer in 0..=999.
    Aime,
    /// MATH-500 (PRM800K grader): not implemented.
    Math500,
    /// LiveCodeBench: code extraction here, execution elsewhere.
    Code,
}

impl Grader {
    /// The grader for a lower-cased dataset name, or None ("No evaluator found").
    pub fn for_dataset(name: &str) -> Option<Grader> {
        let key = EVALUATOR_KEYS.into_iter().find(|k| name.contains(k))?;
        Some(match key {
            "gpqa" => Grader::Choice('D'),
            "mmlu_pro" | "mmlu" => Grader::Choice('J'),
            "math500" => Grader::Math500,
            "aime" => Grader::Aime,
            _ => Grader::Code,
        })
    }
}

/// The verdict on one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The official `is_correct`.
    pub is_correct: bool,
    /// `str(extracted)`, None when nothing was extracted.
    pub extracted: Option<String>,
    /// `evaluation_details` as the official scorer words it.
    pub details: String,
}

/// `evaluate_single_entry` for the choice and AIME graders. `max_digits` is Python's
/// int-string limit in force: 4300, CPython's default, or 50,000 when a
/// LiveCodeBench dataset is in the log (its metrics module raises the limit on import).
pub fn grade(grader: Grader, text: &str, gt: &GroundTruth, max_digits: usize) -> Verdict {
    let extracted = match grader {
        Grader::Choice(last) => parse_multiple_choice(text, last),
        Grader::Aime => parse_aime_answer(text, max_digits).map(|v| v.to_string()),
        Grader::Math500 | Grader::Code => None,
    };
    let Some(x) = extracted else {
        return Verdict {
            is_correct: false,
            extracted: None,
            details: "No answer extracted from model output".into(),
        };
    };
    let Some(gt_text) = gt.py_str() else {
        return Verdict {
            is_correct: false,
            extracted: Some(x),
            details: "No ground truth available".into(),
        };
    };
    let outcome = match grader {
        Grader::Choice(last) => evaluate_choice(&x, gt, last),
        _ => evaluate_aime(&x, gt, max_digits),
    };
    let details = match &outcome {
        Ok(true) => "Correct".to_string(),
        Ok(false) => format!("Incorrect (extracted: {x}, ground_truth: {gt_text})"),
        Err(e) => format!("Evaluation error: {e}"),
    };
    Verdict {
        is_correct: outcome == Ok(true),
        extracted: Some(x),
        details,
    }
}

/// `evaluate_multiple_choice`: both truthy, then `parsed.upper() in valid and
/// parsed.upper() == gt.upper()`. A non-string ground truth fails on `.upper()`.
fn evaluate_choice(parsed: &str, gt: &GroundTruth, last: char) -> Result<bool, String> {
    let gt = match gt {
        GroundTruth::Str(s) if s.is_empty() => return Ok(false),
        GroundTruth::Str(s) => s,
        GroundTruth::Int(0) | GroundTruth::Bool(false) => return Ok(false),
        GroundTruth::Float(f) if *f == 0.0 => return Ok(false),
        GroundTruth::Int(_) => return Err("'int' object has no attribute 'upper'".into()),
        GroundTruth::Float(_) => return Err("'float' object has no attribute 'upper'".into()),
        GroundTruth::Bool(_) => return Err("'bool' object has no attribute 'upper'".into()),
        GroundTruth::Missing => return Ok(false),
    };
    let parsed = parsed.to_uppercase();
    let valid = &"ABCDEFGHIJ"[..=(last as usize - 'A' as usize)];
    Ok(!parsed.is_empty() && valid.contains(parsed.as_str()) && parsed == gt.to_uppercase())
}

/// `evaluate_aime`: `int(parsed) == int(gt)`; a ground truth `int()` rejects is wrong.
fn evaluate_aime(parsed: &str, gt: &GroundTruth, max_digits: usize) -> Result<bool, String> {
    let Ok(parsed) = parsed.parse::<i64>() else {
        return Ok(false);
    };
    Ok(match gt {
        GroundTruth::Str(s) => py_int(s, max_digits) == Ok(Some(parsed)),
        GroundTruth::Int(i) => *i == parsed,
        GroundTruth::Bool(b) => i64::from(*b) == parsed,
        GroundTruth::Float(f) if f.is_infinite() => {
            return Err("cannot convert float infinity to integer".into())
        }
        GroundTruth::Float(f) => f.trunc() == parsed as f64,
        GroundTruth::Missing => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = crate::aime::PY_INT_MAX_STR_DIGITS;

    fn details(grader: Grader, text: &str, gt: GroundTruth) -> (bool, String) {
        let v = grade(grader, text, &gt, LIMIT);
        (v.is_correct, v.details)
    }

    #[test]
    fn evaluator_table_order() {
        assert_eq!(
            Grader::for_dataset("gpqa_diamond"),
            Some(Grader::Choice('D'))
        );
        assert_eq!(Grader::for_dataset("aime25"), Some(Grader::Aime));
        assert_eq!(Grader::for_dataset("livecodebench_v6"), Some(Grader::Code));
        assert_eq!(Grader::for_dataset("mmlu_pro_x"), Some(Grader::Choice('J')));
        // 'gpqa' is checked before 'aime'.
        assert_eq!(Grader::for_dataset("aime_gpqa"), Some(Grader::Choice('D')));
        assert_eq!(Grader::for_dataset("math500"), Some(Grader::Math500));
        assert_eq!(Grader::for_dataset("pubmed_summarization"), None);
    }

    #[test]
    fn ground_truth_kinds_like_python() {
        let c = Grader::Choice('D');
        assert_eq!(
            details(c, "A", GroundTruth::Missing),
            (false, "No ground truth available".into())
        );
        // `not ground_truth` for 0, then `.upper()` on an int raises.
        assert_eq!(
            details(c, "A", GroundTruth::Int(0)),
            (false, "Incorrect (extracted: A, ground_truth: 0)".into())
        );
        assert_eq!(
            details(c, "A", GroundTruth::Int(1)),
            (
                false,
                "Evaluation error: 'int' object has no attribute 'upper'".into()
            )
        );
        assert_eq!(
            details(c, "A", GroundTruth::Str(" A".into())),
            (false, "Incorrect (extracted: A, ground_truth:  A)".into())
        );
        let a = Grader::Aime;
        assert_eq!(
            details(a, "Answer: 70", GroundTruth::Float(70.9)),
            (true, "Correct".into())
        );
        assert_eq!(
            details(a, "Answer: 70", GroundTruth::Float(f64::INFINITY)),
            (
                false,
                "Evaluation error: cannot convert float infinity to integer".into()
            )
        );
        assert_eq!(
            details(a, "Answer: 1", GroundTruth::Bool(true)),
            (true, "Correct".into())
        );
        assert_eq!(
            details(a, "Answer: 70", GroundTruth::Str("7_0".into())),
            (true, "Correct".into())
        );
        assert_eq!(
            details(a, "Answer: 70", GroundTruth::Float(7e16)),
            (
                false,
                "Incorrect (extracted: 70, ground_truth: 7e+16)".into()
            )
        );
    }

    #[test]
    fn mmlu_letters_and_turkish_i() {
        let j = Grader::Choice('J');
        // The MMLU fallback: the last standalone letter of the final section.
        assert_eq!(
            grade(
                j,
                "Maybe G, but more likely H",
                &GroundTruth::Str("H".into()),
                LIMIT
            )
            .extracted,
            Some("H".into())
        );
        // Dotless ı folds to 'i' under re.I and upper-cases to 'I'.
        assert!(grade(j, "ı", &GroundTruth::Str("I".into()), LIMIT).is_correct);
        // Dotted İ lower-cases to 'i' (so it matches) but str.upper() keeps it: wrong.
        let v = grade(j, "İ", &GroundTruth::Str("I".into()), LIMIT);
        assert_eq!(v.extracted.as_deref(), Some("İ"));
        assert!(!v.is_correct);
        // For GPQA both are letters outside A-D.
        assert_eq!(
            grade(
                Grader::Choice('D'),
                "ı",
                &GroundTruth::Str("A".into()),
                LIMIT
            )
            .extracted,
            None
        );
    }
}
