//! `mlperf-gptoss eval`: the accuracy score of an accuracy-mode run, as the official
//! `eval_mlperf_accuracy.py` computes it (the `eval` crate does the work).
//!
//! stdout carries exactly what the official scorer prints (the per-dataset table,
//! then `'exact_match': X.XXX` for the submission checker), so it can be redirected
//! into `accuracy.txt`; warnings go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use crate::progress::Progress;

/// Command-line arguments of `eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The mlperf_log_accuracy.json of an accuracy-mode run.
    #[arg(long)]
    mlperf_log: PathBuf,
    /// The reference dataset the run used (acc_eval_ref.parquet, or a pandas pickle):
    /// its 'dataset' and 'ground_truth' columns, rows in qsl_idx order.
    #[arg(long)]
    reference_data: PathBuf,
    /// Also write the results as JSON, in the official scorer's structure.
    #[arg(long)]
    output_file: Option<PathBuf>,
    /// Put every entry's verdict (and the start of its output) in --output-file.
    #[arg(long)]
    verbose: bool,
    /// Also save every scored output, sorted by qsl_idx (.pkl as the official pickle, .parquet or .jsonl).
    #[arg(long)]
    save_outputs: Option<PathBuf>,
    /// Run LiveCodeBench entries' code against the problems in DIR: a copy of
    /// Hugging Face livecodebench/code_generation_lite (release_v6: test.jsonl …
    /// test6.jsonl). Each sample runs in a sandboxed python3 (3.11+).
    #[arg(long, value_name = "DIR", conflicts_with = "skip_lcb")]
    lcb_dir: Option<PathBuf>,
    /// LiveCodeBench samples run at once [default: min(available cores, 64), as officially].
    #[arg(long, alias = "num-lcb-workers", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    workers: Option<u32>,
    /// Total seconds one LiveCodeBench dataset may take; the official scorer aborts
    /// (no score) after 1200. 0 = no limit (not the official rule).
    #[arg(long, value_name = "SECONDS", default_value_t = 1200)]
    lcb_total_timeout: u64,
    /// The Python that runs LiveCodeBench code (3.11+; numpy as officially). It runs
    /// as a fresh unprivileged user when eval runs as root, so it must be readable
    /// by everyone (not under /root).
    #[arg(long, value_name = "PATH", default_value = "python3")]
    lcb_python: PathBuf,
    /// Leave LiveCodeBench entries out of the score (their code is not run).
    /// The result is then NOT the official score, and no exact_match line is printed.
    #[arg(long)]
    skip_lcb: bool,
}

impl Args {
    /// Scoring as `submission run` does it: the official defaults, LiveCodeBench
    /// from `lcb_dir` when the set has such rows.
    pub(crate) fn for_log(
        mlperf_log: PathBuf,
        reference_data: PathBuf,
        lcb_dir: Option<PathBuf>,
    ) -> Args {
        Args {
            mlperf_log,
            reference_data,
            output_file: None,
            verbose: false,
            save_outputs: None,
            lcb_dir,
            workers: None,
            lcb_total_timeout: 1200,
            lcb_python: PathBuf::from("python3"),
            skip_lcb: false,
        }
    }
}

/// Scores the log; the exit status says whether it could be scored.
pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let text = score(args)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Scores the log and returns what the official scorer prints on stdout (the
/// text of `accuracy.txt`); warnings go to stderr.
pub(crate) fn score(args: Args) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let log = ::eval::AccuracyLog::read(&args.mlperf_log)?;
    let reference = ::eval::Reference::read(&args.reference_data)?;
    let mut lcb = ::eval::lcb::LcbConfig {
        total_timeout: (args.lcb_total_timeout > 0)
            .then(|| Duration::from_secs(args.lcb_total_timeout)),
        progress: Some(lcb_progress()),
        python: args.lcb_python.into_os_string(),
        ..Default::default()
    };
    if let Some(n) = args.workers {
        lcb.workers = n as usize;
    }
    let options = ::eval::Options {
        verbose: args.verbose,
        skip_lcb: args.skip_lcb,
        keep_outputs: args.save_outputs.is_some(),
        lcb_dir: args.lcb_dir,
        lcb,
    };
    let evaluation = ::eval::evaluate(&log, &reference, &options)?;
    for warning in &evaluation.warnings {
        eprintln!("warning: {warning}");
    }
    for stats in &evaluation.lcb_stats {
        eprintln!("LiveCodeBench {}", stats.line());
    }
    let summary = ::eval::Summary::new(&evaluation.counts);
    let mut out = String::new();
    if let Some(n) = evaluation.lcb_problems_loaded {
        // The official LiveCodeBench loader prints this on stdout.
        writeln!(out, "Loaded {n} problems")?;
    }
    write!(out, "{}", summary.table())?;
    if evaluation.skipped_lcb.is_empty() {
        write!(out, "{}", summary.checker_lines())?;
    } else {
        let skipped: Vec<String> = evaluation
            .skipped_lcb
            .iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        let note = format!(
            "LiveCodeBench entries skipped (--skip-lcb): {}; this is not the official score, so no exact_match line is printed",
            skipped.join(", ")
        );
        writeln!(out, "\n\n{note}")?;
        eprintln!("warning: {note}");
    }
    if let Some(path) = &args.save_outputs {
        ::eval::save_outputs(path, &evaluation.results)?;
        eprintln!(
            "saved {} outputs (ordered by qsl_idx) to {}",
            evaluation.results.len(),
            path.display()
        );
    }
    if let Some(path) = &args.output_file {
        let json = ::eval::output_json(&evaluation, &summary, args.verbose).dump();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the directory of {}", path.display()))?;
        }
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results saved to {}", path.display());
    }
    Ok(out)
}

/// LiveCodeBench progress on stderr: a start line, then the shared progress display.
fn lcb_progress() -> ::eval::lcb::ProgressFn {
    use ::eval::lcb::LcbProgress;
    let current: Mutex<Option<Progress>> = Mutex::new(None);
    Arc::new(move |event: LcbProgress<'_>| {
        let Ok(mut current) = current.lock() else {
            return;
        };
        match event {
            LcbProgress::Loaded {
                dir,
                problems,
                named,
                missing,
            } => {
                eprintln!(
                    "LiveCodeBench: loaded {problems} problems from {} ({named} named by the log){}",
                    dir.display(),
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!("; files not there: {}", missing.join(", "))
                    }
                );
            }
            LcbProgress::Started {
                dataset,
                samples,
                tests,
                workers,
            } => {
                eprintln!(
                    "LiveCodeBench {dataset}: running {samples} samples ({tests} tests) on {workers} workers"
                );
                *current = Some(Progress::new("LiveCodeBench samples", samples as u64));
            }
            LcbProgress::SampleDone { .. } => {
                if let Some(p) = current.as_ref() {
                    p.inc();
                }
            }
            LcbProgress::Finished { .. } => {
                if let Some(p) = current.take() {
                    p.finish();
                }
            }
        }
    })
}
