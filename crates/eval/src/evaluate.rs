//! The whole evaluation of one log against the reference data, in the official
//! scorer's order: entries grouped by lower-cased dataset name, datasets in sorted
//! order, entries in log order within a dataset. Decoding and grading run in
//! parallel; the results come out in that order regardless.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::aime::{LCB_INT_MAX_STR_DIGITS, PY_INT_MAX_STR_DIGITS};
use crate::code::parse_code;
use crate::grade::{grade, Grader, Verdict};
use crate::log::{AccuracyLog, LogEntry};
use crate::pyjson::Json;
use crate::reference::{GroundTruth, Reference};
use crate::EvalError;

/// What to do beyond the official defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the first 200 characters of each output (`--verbose`).
    pub verbose: bool,
    /// Leave LiveCodeBench entries out of the score instead of failing (they need code
    /// execution, which this crate does not do yet). The score is then not official.
    pub skip_lcb: bool,
    /// Keep every decoded output and its token ids (`--save-outputs`).
    pub keep_outputs: bool,
}

/// One scored entry (`detailed_results` item of the official JSON).
#[derive(Debug, Clone)]
pub struct EntryResult {
    pub seq_id: Json,
    pub qsl_idx: u64,
    pub dataset: String,
    pub verdict: Verdict,
    pub ground_truth: GroundTruth,
    pub grader: Grader,
    pub token_count: usize,
    /// First 200 characters of the output, with `verbose`.
    pub preview: Option<String>,
    /// The decoded output and its ids, with `keep_outputs`.
    pub output: Option<(String, Vec<i32>)>,
}

/// Correct / total of one sub-dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetCount {
    pub name: String,
    pub correct: u64,
    pub total: u64,
}

/// Everything an evaluation produced.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// In processing order.
    pub results: Vec<EntryResult>,
    /// Datasets in sorted order (only those with entries).
    pub counts: Vec<DatasetCount>,
    /// Warnings the official scorer logs (entries skipped for an out-of-range qsl_idx).
    pub warnings: Vec<String>,
    /// LiveCodeBench entries left out with `skip_lcb`, per dataset.
    pub skipped_lcb: Vec<(String, usize)>,
}

/// Scores `log` against `reference`.
pub fn evaluate(
    log: &AccuracyLog,
    reference: &Reference,
    options: &Options,
) -> Result<Evaluation, EvalError> {
    let entries = log.entries()?;
    let mut evaluation = Evaluation::default();
    let mut groups: BTreeMap<String, Vec<&LogEntry<'_>>> = BTreeMap::new();
    for entry in &entries {
        if entry.qsl_idx >= reference.len() as u64 {
            evaluation.warnings.push(format!(
                "qsl_idx {} out of range (max: {}); entry {} skipped",
                entry.qsl_idx,
                reference.len() as i64 - 1,
                entry.position
            ));
            continue;
        }
        let name = reference.dataset_name(entry.qsl_idx as usize)?;
        groups.entry(name).or_default().push(entry);
    }
    let has_lcb = groups.keys().any(|name| name.contains("livecodebench"));
    let max_digits = if has_lcb {
        LCB_INT_MAX_STR_DIGITS
    } else {
        PY_INT_MAX_STR_DIGITS
    };
    for (name, group) in &groups {
        let grader = Grader::for_dataset(name).ok_or_else(|| EvalError::Unsupported {
            dataset: name.clone(),
            detail: format!(
                "no evaluator found: the name contains none of {:?}; check the reference data's 'dataset' column",
                crate::grade::EVALUATOR_KEYS
            ),
        })?;
        match grader {
            Grader::Math500 => {
                return Err(EvalError::Unsupported {
                    dataset: name.clone(),
                    detail: "MATH-500 grading (PRM800K) is not implemented; it is not part of the gpt-oss v4 accuracy set".into(),
                })
            }
            Grader::Code if !options.skip_lcb => {
                return Err(EvalError::Unsupported {
                    dataset: name.clone(),
                    detail: format!(
                        "{} LiveCodeBench entries need their code run against the tests, which this build cannot do yet; \
                         pass --skip-lcb to score the other datasets only (not an official score)",
                        group.len()
                    ),
                })
            }
            Grader::Code => {
                // Extract the code anyway, so a damaged entry still fails loudly.
                group
                    .par_iter()
                    .map(|e| decode_entry(log, e).map(|(text, _)| parse_code(&text)))
                    .collect::<Result<Vec<_>, _>>()?;
                evaluation.skipped_lcb.push((name.clone(), group.len()));
                continue;
            }
            Grader::Choice(_) | Grader::Aime => {}
        }
        let results = group
            .par_iter()
            .map(|entry| {
                let (text, ids) = decode_entry(log, entry)?;
                let gt = reference.ground_truth(entry.qsl_idx as usize)?;
                let verdict = grade(grader, &text, &gt, max_digits);
                Ok(EntryResult {
                    seq_id: entry.seq_id.clone(),
                    qsl_idx: entry.qsl_idx,
                    dataset: name.clone(),
                    ground_truth: gt,
                    grader,
                    token_count: ids.len(),
                    preview: options.verbose.then(|| text.chars().take(200).collect()),
                    output: options.keep_outputs.then_some((text, ids)),
                    verdict,
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        evaluation.counts.push(DatasetCount {
            name: name.clone(),
            correct: results.iter().filter(|r| r.verdict.is_correct).count() as u64,
            total: results.len() as u64,
        });
        evaluation.results.extend(results);
    }
    Ok(evaluation)
}

/// Hex → ids → text, as `tokenizer.decode(ids, skip_special_tokens=False)`: Hugging
/// Face's decode skips ids it has no token for (at or above the vocabulary size) and
/// fails on negative ones.
fn decode_entry(log: &AccuracyLog, entry: &LogEntry<'_>) -> Result<(String, Vec<i32>), EvalError> {
    let ids = entry
        .token_ids()
        .map_err(|detail| log.entry_error(entry, detail))?;
    if let Some(bad) = ids.iter().find(|&&id| id < 0) {
        return Err(log.entry_error(
            entry,
            format!("token id {bad} is negative; the log is damaged (re-run the accuracy test)"),
        ));
    }
    let known: Vec<u32> = ids
        .iter()
        .map(|&id| id as u32)
        .filter(|&id| id < harmony::VOCAB_SIZE)
        .collect();
    let text = harmony::decode(&known).map_err(|e| log.entry_error(entry, e.to_string()))?;
    Ok((text, ids))
}
