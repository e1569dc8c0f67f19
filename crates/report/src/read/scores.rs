//! What `eval` and `compliance` left in a folder: the `--output-file` JSON or
//! the printed table (e.g. `accuracy.txt`), and the verify files of TEST07 and
//! TEST09 (crates/eval/src/report.rs, crates/eval/src/compliance).

use serde_json::Value;

/// One sub-dataset's score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DatasetScore {
    /// Sub-dataset name.
    pub name: String,
    /// Correct entries.
    pub correct: u64,
    /// Entries graded.
    pub total: u64,
}

/// An `eval` result.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Per sub-dataset, in the scorer's order.
    pub datasets: Vec<DatasetScore>,
    /// The repeat-weighted `exact_match` percentage, when the output has one.
    pub exact_match: Option<f64>,
}

/// Reads the `--output-file` JSON of `eval`; `None` when `text` is not one.
pub fn eval_json(text: &str) -> Option<Score> {
    let v: Value = serde_json::from_str(text).ok()?;
    let summary = v.get("summary")?;
    let per = summary.get("per_dataset")?.as_object()?;
    let datasets = per
        .iter()
        .map(|(name, d)| DatasetScore {
            name: name.clone(),
            correct: d["correct"].as_u64().unwrap_or(0),
            total: d["total"].as_u64().unwrap_or(0),
        })
        .collect();
    Some(Score {
        datasets,
        exact_match: summary["final_score_percentage"].as_f64(),
    })
}

/// Reads the table `eval` prints; `None` when `text` has no per-dataset table.
pub fn eval_table(text: &str) -> Option<Score> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("Per-Dataset Breakdown:"));
    lines.next()?;
    let datasets = lines
        .skip_while(|l| !l.starts_with("Dataset "))
        .skip(2)
        .take_while(|l| !l.starts_with('='))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            Some(DatasetScore {
                name: cols.first()?.to_string(),
                correct: cols.get(1)?.parse().ok()?,
                total: cols.get(2)?.parse().ok()?,
            })
        })
        .collect();
    let exact_match = text
        .lines()
        .find_map(|l| l.strip_prefix("'exact_match': "))
        .and_then(|v| v.trim().parse().ok());
    Some(Score {
        datasets,
        exact_match,
    })
}

/// A compliance verify file.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verify {
    /// `TEST07` or `TEST09`.
    pub test: String,
    /// Where it was found, relative to the run folder.
    pub file: String,
    /// Its last line says `TEST PASS`.
    pub pass: bool,
    /// The measured value: the accuracy score (TEST07) or the mean output length (TEST09).
    pub value: Option<f64>,
    /// The threshold(s) the value was held against, as the file prints them.
    pub bounds: String,
}

/// Reads a verify file of `test` (`TEST07` / `TEST09`).
pub fn verify(test: &str, file: String, text: &str) -> Verify {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let (value, bounds) = if test == "TEST07" {
        (
            field("Accuracy score:"),
            field("Accuracy threshold:").map(|t| format!(">= {t}")),
        )
    } else {
        let min = field("Min threshold:");
        let max = field("Max threshold:");
        (
            field("Mean output tokens:"),
            min.zip(max).map(|(lo, hi)| format!("[{lo}, {hi}]")),
        )
    };
    Verify {
        test: test.to_string(),
        file,
        pass: text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::trim)
            == Some("TEST PASS"),
        value: value.and_then(|v| v.parse().ok()),
        bounds: bounds.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_table_and_the_json_agree() {
        let counts =
            [("aime25", 3, 8), ("gpqa_diamond", 4, 5)].map(|(n, c, t)| eval::DatasetCount {
                name: n.into(),
                correct: c,
                total: t,
            });
        let summary = eval::Summary::new(&counts);
        let printed = format!("{}{}", summary.table(), summary.checker_lines());
        let from_table = eval_table(&printed).expect("a table");
        assert_eq!(from_table.datasets.len(), 2);
        assert_eq!(from_table.datasets[1].correct, 4);
        let from_json =
            eval_json(&eval::output_json(&eval::Evaluation::default(), &summary, false).dump())
                .expect("json");
        assert_eq!(from_json.datasets, from_table.datasets);
        let rounded = (summary.final_score_percentage * 1000.0).round() / 1000.0;
        assert_eq!(from_table.exact_match, Some(rounded));
        assert_eq!(from_json.exact_match, Some(summary.final_score_percentage));
    }

    #[test]
    fn test09_verify_file_from_eval() {
        let report = eval::compliance::test09::verify(&[1200, 1300], 1150.38, 1406.02);
        let v = verify("TEST09", "x".into(), &report.verify_text);
        assert!(v.pass);
        assert_eq!(v.value, Some(1250.0));
        assert_eq!(v.bounds, "[1150.38, 1406.02]");
    }
}
