//! `mlperf-gptoss eval`: the accuracy score of an accuracy-mode run, as the official
//! `eval_mlperf_accuracy.py` computes it (the `eval` crate does the work).
//!
//! stdout carries exactly what the official scorer prints (the per-dataset table,
//! then `'exact_match': X.XXX` for the submission checker), so it can be redirected
//! into `accuracy.txt`; warnings go to stderr.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

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
    /// Leave LiveCodeBench entries out of the score (their code is not run yet).
    /// The result is then NOT the official score, and no exact_match line is printed.
    #[arg(long)]
    skip_lcb: bool,
}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let log = ::eval::AccuracyLog::read(&args.mlperf_log)?;
    let reference = ::eval::Reference::read(&args.reference_data)?;
    let options = ::eval::Options {
        verbose: args.verbose,
        skip_lcb: args.skip_lcb,
        keep_outputs: args.save_outputs.is_some(),
    };
    let evaluation = ::eval::evaluate(&log, &reference, &options)?;
    for warning in &evaluation.warnings {
        eprintln!("warning: {warning}");
    }
    let summary = ::eval::Summary::new(&evaluation.counts);
    let mut out = std::io::stdout().lock();
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
    out.flush()?;
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
    Ok(std::process::ExitCode::SUCCESS)
}
