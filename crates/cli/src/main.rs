//! `mlperf-gptoss`: the MLPerf Inference benchmark for GPT-OSS-120B.
//!
//! This file only parses the command line and hands each subcommand to its
//! module; the work lives in the library crates.

// The flags' doc comments are their `--help` text, where placeholders such
// as `<output-dir>` are the convention, not HTML.
#![allow(rustdoc::invalid_html_tags)]

use clap::{Parser, Subcommand};

mod backend_args;
mod compliance;
mod eval;
mod harmonize;
mod infer;
mod model_args;
mod plan;
mod preflight;
mod progress;
mod report;
mod request;
mod run;
mod serve;
mod submission;
mod telemetry_args;
mod tune;

#[derive(Parser)]
#[command(
    name = "mlperf-gptoss",
    version,
    about = "MLPerf Inference benchmark for GPT-OSS-120B"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// TEST07 / TEST09: a performance run with the test's audit.config, verified as the official run_verification.py.
    Compliance(compliance::Args),
    /// Score an accuracy log as the official eval_mlperf_accuracy.py does ('exact_match' for the submission checker).
    Eval(eval::Args),
    /// Turn a raw dataset into harmony-format token ids (the reference's harmonize_inputs.py).
    Harmonize(harmonize::Args),
    /// Send every prompt to a backend (k times for pass@k) and save the outputs (the reference's run_infer.py).
    Infer(infer::Args),
    /// Print what LoadGen would load and issue for these settings, without running a SUT.
    Plan(plan::Args),
    /// Check a server in under a minute before hours of runs: each check PASS/WARN/FAIL with evidence.
    Preflight(preflight::Args),
    /// One self-contained HTML report of run folders (several: compared side by side).
    Report(report::Args),
    /// A LoadGen run (Offline / Server / Interactive) against a backend, writing the official logs.
    Run(run::Args),
    /// Serve the embedded GPT-OSS engine over SGLang- and OpenAI-compatible HTTP APIs.
    Serve(serve::Args),
    /// Find the highest Server/Interactive target_qps LoadGen judges VALID (or the Offline concurrency knee).
    Tune(tune::Args),
    /// The whole submission package: run every step into the checker's layout (resumable), check it, pack it.
    Submission(submission::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // stderr, but held back while run's full-screen view is up.
        .with_writer(progress::LogWriter)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compliance(args) => compliance::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Harmonize(args) => harmonize::run(args),
        Command::Infer(args) => infer::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Preflight(args) => preflight::run(args),
        Command::Report(args) => report::run(args),
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Tune(args) => tune::run(args),
        Command::Submission(args) => submission::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
