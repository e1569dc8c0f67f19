//! The whole evaluation of one log against the reference data, in the official
//! scorer's order: entries grouped by lower-cased dataset name, datasets in sorted
//! order, entries in log order within a dataset. Decoding and grading run in
//! parallel; the results come out in that order regardless.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::aime::{LCB_INT_MAX_STR_DIGITS, PY_INT_MAX_STR_DIGITS};
use crate::code::parse_code;
use crate::grade::{grade, Grader, Verdict};
use crate::lcb::{self, LcbConfig, LcbProblems, LcbStats, SampleRun};
use crate::log::{AccuracyLog, LogEntry};
use crate::pyjson::Json;
use crate::reference::{GroundTruth, Reference};
use crate::EvalError;

/// What to do beyond the official defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Keep the first 200 characters of each output (`--verbose`).
    pub verbose: bool,
    /// Leave LiveCodeBench entries out of the score (their code is not run). The
    /// score is then not official.
    pub skip_lcb: bool,
    /// The `code_generation_lite` copy whose problems LiveCodeBench entries are
    /// run against (`--lcb-dir`); needed when the log has such entries, unless
    /// `skip_lcb`.
    pub lcb_dir: Option<PathBuf>,
    /// How LiveCodeBench code is run (official timeouts and worker count by default).
    pub lcb: LcbConfig,
    /// Keep every decoded output and its token ids (`--save-outputs`).
    pub keep_outputs: bool,
}

/// One scored entry (`detailed_results` item of the official JSON).
#[derive(Debug, Clone)]
pub struct EntryResult {
    /// LoadGen's `seq_id`, kept as the log wrote it (it is echoed in the JSON).
    pub seq_id: Json,
    /// The row of the reference data this entry answers.
    pub qsl_idx: u64,
    /// The sub-dataset name from the reference (`gpqa_diamond`, `aime25`, …).
    pub dataset: String,
    /// Whether the output is correct, and why.
    pub verdict: Verdict,
    /// The reference row's `ground_truth`.
    pub ground_truth: GroundTruth,
    /// The grader the dataset name selected.
    pub grader: Grader,
    /// Output tokens in `data` (the ids decoded, before unknown ones are dropped).
    pub token_count: usize,
    /// First 200 characters of the output, with `verbose`.
    pub preview: Option<String>,
    /// The decoded output and its ids, with `keep_outputs`.
    pub output: Option<(String, Vec<i32>)>,
    /// LiveCodeBench: the run of the extracted code (None when it was not run).
    pub lcb_run: Option<SampleRun>,
}

/// Correct / total of one sub-dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetCount {
    /// The sub-dataset name.
    pub name: String,
    /// Entries graded correct.
    pub correct: u64,
    /// Entries graded.
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
    /// What happened to each LiveCodeBench dataset whose code was run.
    pub lcb_stats: Vec<LcbStats>,
    /// Problems read from the LiveCodeBench files, when they were loaded (the
    /// official loader prints `Loaded N problems` on stdout).
    pub lcb_problems_loaded: Option<usize>,
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
    let problems = load_problems(&groups, reference, options, &mut evaluation)?;
    for (name, group) in &groups {
        let grader = Grader::for_dataset(name).ok_or_else(|| EvalError::Unsupported {
            dataset: name.clone(),
            detail: format!(
                "no evaluator found: the name contains none of {:?}; check the reference data's 'dataset' column",
                crate::grade::EVALUATOR_KEYS
            ),
        })?;
        let results = match grader {
            Grader::Math500 => {
                return Err(EvalError::Unsupported {
                    dataset: name.clone(),
                    detail: "MATH-500 grading (PRM800K) is not implemented; it is not part of the gpt-oss v4 accuracy set".into(),
                })
            }
            Grader::Code if options.skip_lcb => {
                // Extract the code anyway, so a damaged entry still fails loudly.
                group
                    .par_iter()
                    .map(|e| decode_entry(log, e).map(|(text, _)| parse_code(&text)))
                    .collect::<Result<Vec<_>, _>>()?;
                evaluation.skipped_lcb.push((name.clone(), group.len()));
                continue;
            }
            Grader::Code => {
                let problems = problems.as_ref().expect("loaded for LiveCodeBench datasets");
                let (results, stats) = run_code(log, reference, options, name, group, problems)?;
                evaluation.lcb_stats.push(stats);
                results
            }
            Grader::Choice(_) | Grader::Aime => group
                .par_iter()
                .map(|entry| {
                    let (text, ids) = decode_entry(log, entry)?;
                    let gt = reference.ground_truth(entry.qsl_idx as usize)?;
                    let verdict = grade(grader, &text, &gt, max_digits);
                    let scored = Scored {
                        entry,
                        text,
                        ids,
                        ground_truth: gt,
                        verdict,
                        lcb_run: None,
                    };
                    Ok(scored.into_result(name, grader, options))
                })
                .collect::<Result<Vec<_>, EvalError>>()?,
        };
        evaluation.counts.push(DatasetCount {
            name: name.clone(),
            correct: results.iter().filter(|r| r.verdict.is_correct).count() as u64,
            total: results.len() as u64,
        });
        evaluation.results.extend(results);
    }
    Ok(evaluation)
}

/// An entry decoded and graded, before the options decide what of its output
/// the result keeps.
struct Scored<'e, 'l> {
    entry: &'e LogEntry<'l>,
    text: String,
    ids: Vec<i32>,
    ground_truth: GroundTruth,
    verdict: Verdict,
    lcb_run: Option<SampleRun>,
}

impl Scored<'_, '_> {
    fn into_result(self, dataset: &str, grader: Grader, options: &Options) -> EntryResult {
        EntryResult {
            seq_id: self.entry.seq_id.clone(),
            qsl_idx: self.entry.qsl_idx,
            dataset: dataset.to_string(),
            ground_truth: self.ground_truth,
            grader,
            token_count: self.ids.len(),
            preview: options
                .verbose
                .then(|| self.text.chars().take(200).collect()),
            output: options.keep_outputs.then_some((self.text, self.ids)),
            verdict: self.verdict,
            lcb_run: self.lcb_run,
        }
    }
}

/// The LiveCodeBench problems, loaded once when some dataset needs its code run
/// (as officially, before any dataset is scored). Only the problems the log
/// names are kept; every problem is checked.
fn load_problems(
    groups: &BTreeMap<String, Vec<&LogEntry<'_>>>,
    reference: &Reference,
    options: &Options,
    evaluation: &mut Evaluation,
) -> Result<Option<LcbProblems>, EvalError> {
    let lcb_groups: Vec<(&String, &Vec<&LogEntry<'_>>)> = groups
        .iter()
        .filter(|(name, _)| Grader::for_dataset(name) == Some(Grader::Code))
        .collect();
    if lcb_groups.is_empty() || options.skip_lcb {
        return Ok(None);
    }
    let Some(dir) = &options.lcb_dir else {
        let (name, group) = lcb_groups[0];
        return Err(EvalError::Unsupported {
            dataset: name.clone(),
            detail: format!(
                "{} LiveCodeBench entries need their code run against the problems' tests: pass --lcb-dir DIR \
                 (a copy of Hugging Face livecodebench/code_generation_lite holding {}), \
                 or --skip-lcb to score the other datasets only (not an official score)",
                group.len(),
                lcb::RELEASE_V6_FILES.join(", ")
            ),
        });
    };
    let mut wanted = HashSet::new();
    for (_, group) in &lcb_groups {
        for entry in group.iter() {
            if let GroundTruth::Str(id) = reference.ground_truth(entry.qsl_idx as usize)? {
                wanted.insert(id);
            }
        }
    }
    let problems = LcbProblems::load_with(dir, Some(&wanted))?;
    if !problems.missing.is_empty() {
        evaluation.warnings.push(format!(
            "{}: LiveCodeBench files missing: {} (release_v6 has {}); problems in them count as not found",
            dir.display(),
            problems.missing.join(", "),
            lcb::RELEASE_V6_FILES.join(", ")
        ));
    }
    evaluation.lcb_problems_loaded = Some(problems.total);
    if let Some(progress) = &options.lcb.progress {
        progress(lcb::LcbProgress::Loaded {
            dir,
            problems: problems.total,
            named: problems.len(),
            missing: &problems.missing,
        });
    }
    evaluation.warnings.extend(lcb::check_python(&options.lcb)?);
    Ok(Some(problems))
}

/// Decodes and extracts every entry, then runs the code ([`lcb::grade_dataset`]).
fn run_code(
    log: &AccuracyLog,
    reference: &Reference,
    options: &Options,
    name: &str,
    group: &[&LogEntry<'_>],
    problems: &LcbProblems,
) -> Result<(Vec<EntryResult>, LcbStats), EvalError> {
    let decoded = group
        .par_iter()
        .map(|entry| {
            let (text, ids) = decode_entry(log, entry)?;
            let gt = reference.ground_truth(entry.qsl_idx as usize)?;
            let code = parse_code(&text);
            Ok((text, ids, gt, code))
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let samples: Vec<lcb::Sample<'_>> = decoded
        .iter()
        .map(|(_, _, gt, code)| lcb::Sample {
            code: code.clone(),
            ground_truth: gt,
        })
        .collect();
    let (verdicts, stats) = lcb::grade_dataset(name, &samples, problems, &options.lcb)?;
    drop(samples);
    let results = decoded
        .into_iter()
        .zip(verdicts)
        .zip(group)
        .map(
            |(((text, ids, ground_truth, _), (verdict, lcb_run)), entry)| {
                let scored = Scored {
                    entry,
                    text,
                    ids,
                    ground_truth,
                    verdict,
                    lcb_run,
                };
                scored.into_result(name, Grader::Code, options)
            },
        )
        .collect();
    Ok((results, stats))
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
