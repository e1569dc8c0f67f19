//! `mlperf-gptoss compliance test07|test09`: the compliance tests of
//! gpt-oss-120b (upstream-gptoss.md §8.5–8.8). A performance run with the test's
//! audit.config (every sample logged), then the verification as the official
//! `run_verification.py` does it, writing the submission's compliance folder:
//!
//! ```text
//! <output-dir>/TEST07/audit.config                  the audit.config the run used
//! <output-dir>/TEST07/<scenario>/performance/       the run's logs (as `run` writes them)
//! <compliance-dir>/TEST07/verify_accuracy.txt       ends in TEST PASS or TEST FAIL
//! <compliance-dir>/TEST07/accuracy/mlperf_log_accuracy.json
//! <compliance-dir>/TEST07/performance/run_1/mlperf_log_{summary,detail}.txt
//! ```
//!
//! `--verify-only LOGDIR` verifies logs produced elsewhere. Unlike the official
//! TEST07 script (which always exits 0), both tests exit non-zero on `TEST FAIL`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use anyhow::Context;
use eval::compliance::{self, audit, test07, test09, Test};

use crate::plan::ModeArg;

/// Which compliance test.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TestArg {
    /// Accuracy in performance mode: the GPQA compliance set must score ≥ 60.698.
    Test07,
    /// Output length in performance mode: mean output tokens in [1150.38, 1406.02].
    Test09,
}

/// Command-line arguments of `compliance`.
#[derive(clap::Args)]
#[group(id = "compliance_args")]
pub struct Args {
    /// The test to run and verify.
    #[arg(value_enum)]
    test: TestArg,
    /// Only verify the logs in this directory (a compliance run done elsewhere);
    /// needs --compliance-dir.
    #[arg(long, value_name = "LOGDIR")]
    verify_only: Option<PathBuf>,
    /// Where the verify file and the copied logs go (<compliance-dir>/TEST0x/; the
    /// official -o, e.g. compliance/SYSTEM/gpt-oss-120b/Offline)
    /// [default: <output-dir>/compliance/<scenario>].
    #[arg(long)]
    compliance_dir: Option<PathBuf>,
    #[command(flatten)]
    verify: VerifyArgs,
    /// The run: every flag of `run` (--dataset is required unless --verify-only;
    /// --audit-config replaces the test's built-in one).
    #[command(flatten)]
    run: crate::run::Args,
}

/// How the logs are verified.
#[derive(clap::Args, Default)]
struct VerifyArgs {
    /// TEST07: the reference data the accuracy is scored against [default: --dataset].
    #[arg(long)]
    reference_data: Option<PathBuf>,
    /// TEST07: score with this command instead of the built-in scorer, as the
    /// official --accuracy-script: run by `sh -c`, `{accuracy_log}` replaced by the
    /// log's path, its output searched for 'exact_match': X.
    #[arg(long)]
    accuracy_script: Option<String>,
    /// TEST07: the pass threshold [default: test07_accuracy_threshold of the audit.config].
    #[arg(long)]
    accuracy_threshold: Option<f64>,
    /// TEST09: the lower bound [default: test09_min_output_tokens of the audit.config].
    #[arg(long)]
    min_output_tokens: Option<f64>,
    /// TEST09: the upper bound [default: test09_max_output_tokens of the audit.config].
    #[arg(long)]
    max_output_tokens: Option<f64>,
}

impl Args {
    /// A compliance run as `submission run` makes it: `run` is the step's run,
    /// the verify file and logs go to `<compliance_dir>/TEST0x/`.
    pub(crate) fn for_submission(
        test: Test,
        compliance_dir: PathBuf,
        run: crate::run::Args,
    ) -> Args {
        Args {
            test: match test {
                Test::Test07 => TestArg::Test07,
                Test::Test09 => TestArg::Test09,
            },
            verify_only: None,
            compliance_dir: Some(compliance_dir),
            verify: VerifyArgs::default(),
            run,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    Ok(if execute(args)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs (unless --verify-only) and verifies; returns whether the test passed.
pub(crate) fn execute(args: Args) -> anyhow::Result<bool> {
    let Args {
        test,
        verify_only,
        compliance_dir,
        verify,
        run: run_args,
    } = args;
    if verify_only.is_none() {
        // Before anything is written: this build may lack the LoadGen asked for.
        run_args.loadgen.loadgen()?;
    }
    let test = match test {
        TestArg::Test07 => Test::Test07,
        TestArg::Test09 => Test::Test09,
    };
    let audit_text = match &run_args.config.audit_config {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the audit.config {}", path.display()))?,
        None => test.audit_config().to_string(),
    };
    let reference = verify
        .reference_data
        .clone()
        .or_else(|| run_args.dataset.clone());

    let (log_dir, compliance_dir) = match verify_only {
        Some(log_dir) => {
            let dir = compliance_dir.context(
                "--verify-only needs --compliance-dir (the folder the verify file and logs go to, the official -o)",
            )?;
            (log_dir, dir)
        }
        None => {
            let dir = compliance_dir.unwrap_or_else(|| {
                run_args
                    .output_dir
                    .join("compliance")
                    .join(run_args.scenario.submission_name())
            });
            (
                run_test(test, run_args, &audit_text, reference.as_deref())?,
                dir,
            )
        }
    };
    compliance::accuracy_log_in(&log_dir)?;
    let pass = match test {
        Test::Test07 => verify_test07(&verify, &audit_text, &log_dir, &compliance_dir, reference)?,
        Test::Test09 => verify_test09(&verify, &audit_text, &log_dir, &compliance_dir)?,
    };
    Ok(pass)
}

/// The compliance run: `run` in performance mode with the audit.config written
/// beside its logs. Returns the directory holding LoadGen's logs.
fn run_test(
    test: Test,
    mut run_args: crate::run::Args,
    audit_text: &str,
    reference: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        run_args.dataset.is_some(),
        "{} needs --dataset (TEST07: acc_eval_compliance_gpqa.parquet, TEST09: perf_eval_ref.parquet), \
         or --verify-only LOGDIR for logs produced elsewhere",
        test.name()
    );
    anyhow::ensure!(
        matches!(run_args.mode, ModeArg::Performance),
        "a compliance run is a performance run (its audit.config sets mode 2); drop --mode"
    );
    // A discarded audit.config would make this an ordinary performance run, so
    // LoadGen's tolerance of bad files is not kept here.
    loadgen::ConfigFile::parse(audit_text, "audit.config")
        .context("the audit.config is not valid for LoadGen, which would ignore all of it")?;
    if test == Test::Test07 {
        // Fail before hours of generation, not after.
        let path = reference.context("TEST07 needs --reference-data or --dataset")?;
        eval::Reference::read(path)?;
    }
    let base = run_args.output_dir.join(test.name());
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let audit_path = base.join("audit.config");
    std::fs::write(&audit_path, audit_text)
        .with_context(|| format!("writing {}", audit_path.display()))?;
    run_args.config.audit_config = Some(audit_path);
    run_args.output_dir = base;
    eprintln!(
        "{}: compliance run (performance mode, every sample logged)",
        test.name()
    );
    let outcome = crate::run::execute(run_args)?;
    anyhow::ensure!(
        outcome.done > 0,
        "the compliance run issued no samples: {}",
        outcome.problems().join("; ")
    );
    for problem in outcome.problems() {
        eprintln!("warning: {problem}");
    }
    Ok(outcome.outdir)
}

/// TEST07: score the log and compare with the threshold.
fn verify_test07(
    args: &VerifyArgs,
    audit_text: &str,
    log_dir: &Path,
    compliance_dir: &Path,
    reference: Option<PathBuf>,
) -> anyhow::Result<bool> {
    let found = audit::thresholds(audit_text, audit::Reader::Test07);
    warn_all(&found.warnings);
    let threshold = args.accuracy_threshold.or(found.accuracy).context(
        "no accuracy threshold: pass --accuracy-threshold, or an audit.config with test07_accuracy_threshold",
    )?;
    println!("Using accuracy threshold: {}", audit::show(threshold));
    let log = log_dir.join(compliance::ACCURACY_LOG);
    let output = match &args.accuracy_script {
        Some(command) => run_scorer_command(command, &log)?,
        None => {
            let reference = reference.context(
                "TEST07 needs --reference-data (the dataset the run used, e.g. acc_eval_compliance_gpqa.parquet)",
            )?;
            let text = builtin_score(&log, &reference);
            print!("{text}");
            text
        }
    };
    let (verdict, text) = test07::verify(&output, threshold);
    let test_dir = compliance::copy_logs(Test::Test07, log_dir, compliance_dir, &text)?;
    println!("\n{}", "=".repeat(80));
    match verdict.score {
        Some(score) => println!(
            "Accuracy score: {}\nAccuracy threshold: {}",
            audit::show(score),
            audit::show(threshold)
        ),
        None => println!("Error: Could not parse accuracy score from output."),
    }
    println!(
        "\nAccuracy check pass: {}\nTEST07 verification complete: {}",
        if verdict.pass { "True" } else { "False" },
        if verdict.pass {
            "TEST PASS"
        } else {
            "TEST FAIL"
        }
    );
    eprintln!("compliance folder: {}", test_dir.display());
    Ok(verdict.pass)
}

/// What the built-in scorer prints for the log (the official scorer's stdout),
/// or the error that stopped it, so the verification records why it failed.
fn builtin_score(log: &Path, reference: &Path) -> String {
    let scored = (|| {
        let log = eval::AccuracyLog::read(log)?;
        let reference = eval::Reference::read(reference)?;
        let evaluation = eval::evaluate(&log, &reference, &eval::Options::default())?;
        let summary = eval::Summary::new(&evaluation.counts);
        let warnings: String = evaluation
            .warnings
            .iter()
            .map(|w| format!("warning: {w}\n"))
            .collect();
        Ok::<_, eval::EvalError>(format!(
            "{warnings}{}{}",
            summary.table(),
            summary.checker_lines()
        ))
    })();
    scored.unwrap_or_else(|e| format!("error: {e}\n"))
}

/// Runs an external scorer as the official script does (`sh`, stderr merged
/// into stdout, each line echoed) and returns everything it printed.
fn run_scorer_command(template: &str, log: &Path) -> anyhow::Result<String> {
    let command = template
        .replace("{accuracy_log}", &log.display().to_string())
        .replace("{{", "{")
        .replace("}}", "}");
    println!(
        "\nRunning accuracy evaluation script...\nCommand: {command}\n{}",
        "=".repeat(80)
    );
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .context("starting sh for --accuracy-script")?;
    let mut collected = String::new();
    let stdout = child.stdout.take().context("no pipe from the scorer")?;
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).split(b'\n') {
        let mut line = String::from_utf8_lossy(&line?).into_owned();
        line.push('\n');
        out.write_all(line.as_bytes())?;
        collected.push_str(&line);
    }
    out.flush()?;
    let status = child.wait()?;
    if !status.success() {
        eprintln!("warning: the accuracy script exited with {status}");
    }
    Ok(collected)
}

/// TEST09: the mean output length against the bounds.
fn verify_test09(
    args: &VerifyArgs,
    audit_text: &str,
    log_dir: &Path,
    compliance_dir: &Path,
) -> anyhow::Result<bool> {
    let found = audit::thresholds(audit_text, audit::Reader::Test09);
    warn_all(&found.warnings);
    let (Some(min), Some(max)) = (
        args.min_output_tokens.or(found.min_output_tokens),
        args.max_output_tokens.or(found.max_output_tokens),
    ) else {
        anyhow::bail!(
            "output token bounds not specified: pass --min-output-tokens and --max-output-tokens, \
             or an audit.config with test09_min_output_tokens and test09_max_output_tokens"
        );
    };
    println!(
        "Using thresholds:\n  Min output tokens: {}\n  Max output tokens: {}",
        audit::show(min),
        audit::show(max)
    );
    let log = log_dir.join(compliance::ACCURACY_LOG);
    let read = test09::read_output_lengths(&log)?;
    for note in &read.notes {
        println!("{note}");
    }
    warn_all(&read.warnings);
    anyhow::ensure!(
        !read.lengths.is_empty(),
        "{}: no entries found: the run logged no samples (was it run with the TEST09 audit.config? \
         are there LoadGen errors in mlperf_log_detail.txt?)",
        log.display()
    );
    let report = test09::verify(&read.lengths, min, max);
    print!("{}", report.stdout);
    let test_dir =
        compliance::copy_logs(Test::Test09, log_dir, compliance_dir, &report.verify_text)?;
    eprintln!("compliance folder: {}", test_dir.display());
    Ok(report.pass)
}

/// The official scripts print their warnings on stdout, among their output.
fn warn_all(warnings: &[String]) {
    for w in warnings {
        println!("{w}");
    }
}
