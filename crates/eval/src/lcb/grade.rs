//! One LiveCodeBench dataset of a log, graded as `process_livecodebench_batch`
//! of the official scorer: the code `parse_code` extracted from each output is
//! run against the tests of the problem named by the entry's `ground_truth`
//! (its `question_id`), and the verdict is worded as officially.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::harness::{SampleRun, Status};
use super::pool::{run_jobs, Job, PoolError};
use super::problems::LcbProblems;
use super::{LcbConfig, LcbProgress};
use crate::grade::Verdict;
use crate::reference::GroundTruth;
use crate::EvalError;

/// What happened to one dataset's samples (printed on stderr by the CLI).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LcbStats {
    /// The LiveCodeBench dataset name.
    pub dataset: String,
    /// Entries of the dataset.
    pub samples: usize,
    /// Samples whose code was run, by outcome.
    pub by_status: BTreeMap<Status, usize>,
    /// No code extracted from the output.
    pub no_code: usize,
    /// Not run for another reason (no ground truth, empty code, unknown id).
    pub not_run: usize,
    /// Tests in the samples that were run.
    pub tests: usize,
    /// Samples run at once.
    pub workers: usize,
    /// Wall time of the whole dataset.
    pub elapsed: Duration,
    /// The sandbox's distinct warnings (e.g. no network isolation), each also
    /// logged once with `tracing` when it first appears.
    pub warnings: Vec<String>,
}

impl LcbStats {
    /// `livecodebench_v6: 3165 samples, 2600 passed, 300 wrong answer, ...`.
    pub fn line(&self) -> String {
        let mut parts = vec![format!("{}: {} samples", self.dataset, self.samples)];
        for (status, n) in &self.by_status {
            parts.push(format!("{n} {}", status_words(*status)));
        }
        if self.no_code > 0 {
            parts.push(format!("{} without code", self.no_code));
        }
        if self.not_run > 0 {
            parts.push(format!(
                "{} not run (no ground truth or unknown question id)",
                self.not_run
            ));
        }
        parts.push(format!(
            "{} workers, {:.1} s",
            self.workers,
            self.elapsed.as_secs_f64()
        ));
        parts.join(", ")
    }
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::WrongAnswer => "wrong answer",
        Status::TimeLimit => "time limit",
        Status::RuntimeError => "runtime error",
        Status::OuterTimeout => "killed at the outer limit",
        Status::NoAnswer => "ended without an answer",
    }
}

/// One entry of the dataset: the extracted code and the ground truth.
pub struct Sample<'a> {
    /// The code `parse_code` extracted, if any.
    pub code: Option<String>,
    /// The question id the reference names.
    pub ground_truth: &'a GroundTruth,
}

/// A sample's verdict, with the run of its code when it ran.
pub type Graded = (Verdict, Option<SampleRun>);

/// Grades `samples`; the verdicts are in the same order.
pub fn grade_dataset(
    dataset: &str,
    samples: &[Sample<'_>],
    problems: &LcbProblems,
    config: &LcbConfig,
) -> Result<(Vec<Graded>, LcbStats), EvalError> {
    let start = Instant::now();
    let mut stats = LcbStats {
        dataset: dataset.to_string(),
        samples: samples.len(),
        ..LcbStats::default()
    };
    let mut verdicts: Vec<Option<Graded>> = Vec::with_capacity(samples.len());
    let mut jobs = Vec::new();
    let mut job_entry = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        let decided = |details: String| {
            Some((
                Verdict {
                    is_correct: false,
                    extracted: sample.code.clone(),
                    details,
                },
                None,
            ))
        };
        let Some(code) = &sample.code else {
            stats.no_code += 1;
            verdicts.push(decided("No code extracted from model output".into()));
            continue;
        };
        let Some(id) = sample.ground_truth.py_str() else {
            stats.not_run += 1;
            verdicts.push(decided("No ground truth available".into()));
            continue;
        };
        // The worker's `if not code or not question_id`.
        if code.is_empty() || !truthy(sample.ground_truth) {
            stats.not_run += 1;
            verdicts.push(decided("No code or question_id provided".into()));
            continue;
        }
        // Problem ids are strings: a numeric ground truth never matches one.
        let problem = match sample.ground_truth {
            GroundTruth::Str(s) => problems.get(s),
            _ => None,
        };
        let Some(problem) = problem else {
            stats.not_run += 1;
            verdicts.push(decided(format!(
                "Question ID '{id}' not found in benchmark"
            )));
            continue;
        };
        stats.tests += problem.n_tests;
        jobs.push(Job { problem, code });
        job_entry.push(i);
        verdicts.push(None);
    }
    stats.workers = config.workers.clamp(1, jobs.len().max(1));
    if let Some(progress) = &config.progress {
        progress(LcbProgress::Started {
            dataset,
            samples: jobs.len(),
            tests: stats.tests,
            workers: stats.workers,
        });
    }
    let mut warnings = Vec::new();
    let runs = run_jobs(&jobs, config, |_, run| {
        for w in &run.warnings {
            if !warnings.contains(w) {
                tracing::warn!("sandbox: {w}");
                warnings.push(w.clone());
            }
        }
        if let Some(progress) = &config.progress {
            progress(LcbProgress::SampleDone { dataset });
        }
    });
    if let Some(progress) = &config.progress {
        progress(LcbProgress::Finished { dataset });
    }
    let runs = runs.map_err(|e| match e {
        PoolError::Budget { done, total } => EvalError::LcbBudget {
            dataset: dataset.to_string(),
            done,
            total,
            budget_s: config.total_timeout.map_or(0, |t| t.as_secs()),
        },
        PoolError::Setup(e) => e,
    })?;
    for (run, &i) in runs.into_iter().zip(&job_entry) {
        *stats.by_status.entry(run.status()).or_default() += 1;
        let details = if run.passed {
            "All tests passed"
        } else {
            "Failed one or more test cases"
        };
        verdicts[i] = Some((
            Verdict {
                is_correct: run.passed,
                extracted: samples[i].code.clone(),
                details: details.into(),
            },
            Some(run),
        ));
    }
    stats.elapsed = start.elapsed();
    stats.warnings = warnings;
    Ok((
        verdicts
            .into_iter()
            .map(|v| v.expect("every sample graded"))
            .collect(),
        stats,
    ))
}

/// Python truthiness of a ground truth (`not question_id`).
fn truthy(gt: &GroundTruth) -> bool {
    match gt {
        GroundTruth::Missing => false,
        GroundTruth::Str(s) => !s.is_empty(),
        GroundTruth::Int(i) => *i != 0,
        GroundTruth::Float(f) => *f != 0.0,
        GroundTruth::Bool(b) => *b,
    }
}
