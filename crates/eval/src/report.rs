//! The score (repeat-weighted, upstream-gptoss.md §6.5), the table printed on stdout
//! and the `--output-file` JSON, laid out exactly as the official scorer prints them.

use std::fmt::Write as _;

use crate::evaluate::{DatasetCount, Evaluation};
use crate::grade::Grader;
use crate::pyjson::Json;

/// BENCHMARK DEFINITION (data): `DATASET_REPEATS` of `eval_mlperf_accuracy.py`
/// (mlcommons/inference, `language/gpt-oss-120b/`): how often each question is
/// repeated in the accuracy set. Other datasets count once.
pub const DATASET_REPEATS: [(&str, u64); 3] =
    [("aime25", 8), ("gpqa_diamond", 5), ("livecodebench_v6", 3)];

/// BENCHMARK DEFINITION (data): the submission checker's accuracy target for
/// gpt-oss-120b, `("exact_match", 83.13 * 0.99)`: 99% of the reference score
/// (submission-checker.md, upstream-gptoss.md §6).
pub const ACCURACY_REFERENCE: f64 = 83.13;
/// BENCHMARK DEFINITION (data): the fraction of [`ACCURACY_REFERENCE`] a run must reach.
pub const ACCURACY_TARGET_FRACTION: f64 = 0.99;

/// The `exact_match` a submission must reach (82.2987), computed as the checker does.
pub fn accuracy_target() -> f64 {
    ACCURACY_REFERENCE * ACCURACY_TARGET_FRACTION
}

/// The repeats of a (lower-cased) dataset name.
pub fn repeats(name: &str) -> u64 {
    DATASET_REPEATS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(1, |(_, r)| *r)
}

/// The numbers of the summary, computed in the official order of floating-point operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Correct / total per sub-dataset, in the official (sorted) order.
    pub counts: Vec<DatasetCount>,
    /// Entries graded over all sub-datasets.
    pub total_samples: u64,
    /// Of those, correct.
    pub total_correct: u64,
    /// Unweighted accuracy in percent, as printed.
    pub overall_accuracy: f64,
    /// Repeat-weighted correct count (see [`DATASET_REPEATS`]).
    pub final_score: f64,
    /// Repeat-weighted total.
    pub max_score: f64,
    /// The score the submission checker reads (`'exact_match'`).
    pub final_score_percentage: f64,
}

impl Summary {
    /// Sums the counts as the official scorer does.
    pub fn new(counts: &[DatasetCount]) -> Summary {
        let total_correct: u64 = counts.iter().map(|c| c.correct).sum();
        let total_samples: u64 = counts.iter().map(|c| c.total).sum();
        let overall_accuracy = if total_samples > 0 {
            total_correct as f64 / total_samples as f64 * 100.0
        } else {
            0.0
        };
        let mut final_score = 0.0;
        let mut max_score = 0.0;
        for c in counts {
            let r = repeats(&c.name) as f64;
            final_score += c.correct as f64 / r;
            max_score += c.total as f64 / r;
        }
        let final_score_percentage = if max_score > 0.0 {
            final_score / max_score * 100.0
        } else {
            0.0
        };
        Summary {
            counts: counts.to_vec(),
            total_samples,
            total_correct,
            overall_accuracy,
            final_score,
            max_score,
            final_score_percentage,
        }
    }

    /// The line the submission checker reads.
    pub fn exact_match_line(&self) -> String {
        format!("'exact_match': {:.3}", self.final_score_percentage)
    }

    /// Everything the official scorer prints on stdout, up to (not including) the
    /// submission-checker lines.
    pub fn table(&self) -> String {
        let eq = "=".repeat(80);
        let dash = "-".repeat(80);
        let mut o = String::new();
        let _ = writeln!(o, "\n{eq}\nMLPerf Accuracy Evaluation Results\n{eq}");
        let _ = writeln!(o, "Total samples evaluated: {}", self.total_samples);
        let _ = writeln!(
            o,
            "Overall raw accuracy: {:.2}% ({}/{})",
            self.overall_accuracy, self.total_correct, self.total_samples
        );
        let _ = writeln!(o, "{eq}\n\nPer-Dataset Breakdown:\n{dash}");
        let _ = writeln!(
            o,
            "{:25} {:>8} {:>8} {:>8} {:>10} {:>10}\n{dash}",
            "Dataset", "Correct", "Total", "Repeats", "Score", "Accuracy"
        );
        for c in self.counts.iter().filter(|c| c.total > 0) {
            let r = repeats(&c.name);
            let _ = writeln!(
                o,
                "{:25} {:8} {:8} {:8} {:10.2} {:9.2}%",
                c.name,
                c.correct,
                c.total,
                r,
                c.correct as f64 / r as f64,
                c.correct as f64 / c.total as f64 * 100.0
            );
        }
        let _ = writeln!(o, "{eq}\n\nFinal Score Calculation:\n{dash}");
        let join = |f: &dyn Fn(&DatasetCount, u64) -> String| {
            self.counts
                .iter()
                .map(|c| f(c, repeats(&c.name)))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let _ = writeln!(o, "Formula: {}", join(&|c, r| format!("{}/{r}", c.name)));
        let _ = writeln!(
            o,
            "Score:   = {}",
            join(&|c, r| format!("{}/{r}", c.correct))
        );
        let _ = writeln!(
            o,
            "         = {}",
            join(&|c, r| format!("{:.2}", c.correct as f64 / r as f64))
        );
        let _ = writeln!(o, "         = {:.2}", self.final_score);
        let _ = writeln!(o, "Max:     = {}", join(&|c, r| format!("{}/{r}", c.total)));
        let _ = writeln!(o, "         = {:.2}", self.max_score);
        let _ = writeln!(
            o,
            "\nFINAL SCORE: {:.2}% ({:.2}/{:.2})\n{eq}",
            self.final_score_percentage, self.final_score, self.max_score
        );
        o
    }

    /// The submission-checker tail: `\n\nPrinting for submission_checker:\n\n'exact_match': X`.
    pub fn checker_lines(&self) -> String {
        format!(
            "\n\nPrinting for submission_checker:\n\n{}\n",
            self.exact_match_line()
        )
    }
}

/// The `--output-file` JSON (`{"summary": ..., "detailed_results": [...] | null}`).
pub fn output_json(evaluation: &Evaluation, summary: &Summary, verbose: bool) -> Json {
    let per_dataset = summary.counts.iter().map(|c| {
        let r = repeats(&c.name);
        let accuracy = if c.total > 0 {
            c.correct as f64 / c.total as f64 * 100.0
        } else {
            0.0
        };
        (
            c.name.clone(),
            Json::obj([
                ("correct", Json::Int(c.correct.into())),
                ("total", Json::Int(c.total.into())),
                ("accuracy", Json::Float(accuracy)),
                ("repeats", Json::Int(r.into())),
                ("component_score", Json::Float(c.correct as f64 / r as f64)),
                (
                    "max_component_score",
                    Json::Float(c.total as f64 / r as f64),
                ),
            ]),
        )
    });
    let summary_json = Json::obj([
        ("total_samples", Json::Int(summary.total_samples.into())),
        ("total_correct", Json::Int(summary.total_correct.into())),
        ("overall_accuracy", Json::Float(summary.overall_accuracy)),
        ("final_score", Json::Float(summary.final_score)),
        ("max_score", Json::Float(summary.max_score)),
        (
            "final_score_percentage",
            Json::Float(summary.final_score_percentage),
        ),
        (
            "dataset_repeats",
            Json::obj(DATASET_REPEATS.map(|(n, r)| (n, Json::Int(r.into())))),
        ),
        ("per_dataset", Json::obj(per_dataset)),
    ]);
    let details = if verbose {
        Json::Arr(
            evaluation
                .results
                .iter()
                .map(|r| {
                    Json::obj([
                        ("seq_id", r.seq_id.clone()),
                        ("qsl_idx", Json::Int(r.qsl_idx.into())),
                        ("dataset", Json::Str(r.dataset.clone())),
                        ("is_correct", Json::Bool(r.verdict.is_correct)),
                        (
                            "extracted_answer",
                            // LiveCodeBench code: `str(extracted_code)[:200]`.
                            Json::opt_str(r.verdict.extracted.as_ref().map(|x| match r.grader {
                                Grader::Code => x.chars().take(200).collect(),
                                _ => x.clone(),
                            })),
                        ),
                        ("ground_truth", Json::opt_str(r.ground_truth.py_str())),
                        ("evaluation_details", Json::Str(r.verdict.details.clone())),
                        ("token_count", Json::Int(r.token_count as i128)),
                        ("model_output_preview", Json::opt_str(r.preview.clone())),
                    ])
                })
                .collect(),
        )
    } else {
        Json::Null
    };
    Json::obj([("summary", summary_json), ("detailed_results", details)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_pythons_half_even_on_the_binary_value() {
        // Python: f"{0.625:.2f}" == '0.62', f"{0.875:.2f}" == '0.88', f"{12.0625:.3f}" == '12.062'.
        assert_eq!(format!("{:.2}", 5.0 / 8.0), "0.62");
        assert_eq!(format!("{:.2}", 7.0 / 8.0), "0.88");
        assert_eq!(format!("{:.3}", 12.0625), "12.062");
    }

    #[test]
    fn v4_maximum_is_1283_questions() {
        let counts = [
            ("aime25", 240, 240),
            ("gpqa_diamond", 990, 990),
            ("livecodebench_v6", 0, 3165),
        ]
        .map(|(n, c, t)| DatasetCount {
            name: n.into(),
            correct: c,
            total: t,
        });
        let s = Summary::new(&counts);
        assert_eq!(s.max_score, 1283.0);
        assert_eq!(s.final_score, 228.0);
        assert_eq!(
            s.exact_match_line(),
            format!("'exact_match': {:.3}", 228.0 / 1283.0 * 100.0)
        );
        assert_eq!(s.exact_match_line(), "'exact_match': 17.771");
    }
}
