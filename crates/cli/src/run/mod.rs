//! `mlperf-gptoss run`: a LoadGen run (Offline, Server or Interactive) in
//! performance or accuracy mode against a backend, writing LoadGen's log
//! files under `<output-dir>/<scenario>/<mode>/` as the reference lays them
//! out, beside `samples.jsonl` (one record per sample as it completes) and
//! `results.json`.

pub(crate) mod demo;
mod interrupt;
mod live;
mod records;
mod scoring;
mod sut;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use backend::settings::{reference_sampling, MAX_NEW_TOKENS_ACCURACY, MAX_NEW_TOKENS_PERFORMANCE};
use loadgen::{LoadGen, NativeLoadGen, QuerySampleLibrary, RunError, TestSpec};
use tokio::sync::Semaphore;

use crate::backend_args::BackendArgs;
use crate::plan::{ConfigArgs, ModeArg, ScenarioArg};
use crate::telemetry_args::{self, TelemetryArgs};
use records::Records;
use sut::{GenerationSut, SutMode, SutState};

/// Command-line arguments of `run`.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// LoadGen scenario (interactive = Server with the gpt-oss-120b-interactive keys).
    #[arg(long, value_enum, default_value = "offline")]
    pub(crate) scenario: ScenarioArg,
    /// Performance or accuracy mode.
    #[arg(long, value_enum, default_value = "performance")]
    pub(crate) mode: ModeArg,
    /// Harmonized dataset (.parquet, .pkl, .jsonl) with `input_tokens` or `tok_input`
    /// [default: the bundled sample, with the demo user.conf].
    #[arg(long)]
    pub(crate) dataset: Option<PathBuf>,
    /// Use only the first N rows of the dataset (the reference's --max-samples).
    #[arg(long)]
    pub(crate) max_samples: Option<usize>,
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// Logs go to <output-dir>/<scenario>/<performance|accuracy>/.
    #[arg(long, default_value = "mlperf_results")]
    pub(crate) output_dir: PathBuf,
    /// Requests in flight at once [default: 128 for Offline, unlimited for Server, as the reference].
    #[arg(long)]
    pub(crate) max_concurrency: Option<usize>,
    /// Output tokens per sample [default: 10240 performance, 32768 accuracy; 64 for the demo].
    #[arg(long)]
    pub(crate) max_new_tokens: Option<u32>,
    /// Server/Interactive: report every token at completion, the first included
    /// (the reference leaves the first token out of the final report).
    #[arg(long)]
    pub(crate) report_all_tokens: bool,
    /// Which LoadGen runs the test: native (ours; identical by test, not valid for a
    /// submission) or official (the MLPerf C++ LoadGen; needs a build with the
    /// official-loadgen feature).
    #[arg(long, value_enum, default_value = "native")]
    pub(crate) loadgen: LoadGenArg,
    /// Check the server first (`mlperf-gptoss preflight`); stop before LoadGen on a FAIL.
    #[arg(long)]
    pub(crate) preflight: bool,
    #[command(flatten)]
    pub(crate) telemetry: TelemetryArgs,
    /// No header, live view or summary on stderr (`tune` runs probes with its own display).
    #[arg(skip)]
    pub(crate) quiet: bool,
    /// Also write report.html (see `mlperf-gptoss report`) beside the logs.
    #[arg(long)]
    pub(crate) report: bool,
}

/// `--loadgen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadGenArg {
    /// The native LoadGen of the `loadgen` crate.
    Native,
    /// The official C++ LoadGen, compiled in with the official-loadgen feature.
    Official,
}

impl LoadGenArg {
    /// The LoadGen to run, or why this build cannot run it (with how to build it).
    pub(crate) fn loadgen(self) -> anyhow::Result<&'static dyn LoadGen> {
        Ok(match self {
            LoadGenArg::Native => &NativeLoadGen,
            LoadGenArg::Official if loadgen_official::BUILT => &loadgen_official::OfficialLoadGen,
            LoadGenArg::Official => {
                anyhow::bail!("--loadgen official: {}", loadgen_official::Error::NotBuilt)
            }
        })
    }
}

/// What a finished run left behind.
pub struct Outcome {
    /// `<output-dir>/<scenario>/<mode>/`: LoadGen's logs, samples.jsonl, results.json.
    pub outdir: PathBuf,
    /// Samples whose request failed, and the first failure.
    pub errors: usize,
    /// Samples completed, failed ones included.
    pub done: usize,
    /// The first failed sample and its error.
    pub first_error: Option<String>,
    /// Errors LoadGen logged (the run is then not valid), and the first one's text.
    pub loadgen_errors: u64,
    /// The text of LoadGen's first logged error.
    pub first_loadgen_error: Option<String>,
    /// Ctrl-C ended the run early (its logs are written; it is not a valid result).
    pub interrupted: bool,
}

/// Runs and prints where the logs are and what went wrong; the exit status
/// says whether the run is clean.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let outcome = execute(args)?;
    eprintln!("logs and records: {}", outcome.outdir.display());
    let problems = outcome.problems();
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if outcome.interrupted {
        eprintln!(
            "interrupted: the run ended early (Ctrl-C); what it produced is in the folder above"
        );
        return Ok(ExitCode::from(130));
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

impl Outcome {
    /// What went wrong: LoadGen's logged errors and failed samples, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.loadgen_errors > 0 {
            problems.push(format!(
                "LoadGen logged {} error(s) in {}; first: {}",
                self.loadgen_errors,
                self.outdir.join("mlperf_log_detail.txt").display(),
                self.first_loadgen_error.as_deref().unwrap_or("?")
            ));
        }
        if self.errors > 0 {
            problems.push(format!(
                "{} of {} samples failed (recorded in samples.jsonl); first: {}",
                self.errors,
                self.done,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        problems
    }
}

/// Runs LoadGen against the backend and writes everything under the output
/// directory; failed samples are counted in the outcome, not an error.
pub fn execute(args: Args) -> anyhow::Result<Outcome> {
    let outdir = args
        .output_dir
        .join(args.scenario.dir_name())
        .join(mode_name(args.mode));
    execute_in(args, outdir)
}

/// [`execute`] with the logs in `outdir` itself (`tune` puts each probe's in its own folder).
pub fn execute_in(args: Args, outdir: PathBuf) -> anyhow::Result<Outcome> {
    // From here on Ctrl-C ends the run cleanly instead of killing the process.
    let interrupt = interrupt::interrupt();
    let loadgen = args.loadgen.loadgen()?;
    let demo = args.dataset.is_none();
    let (mut prompts, reference) = match &args.dataset {
        Some(path) => {
            let table = dataset::read_table(path)?;
            let prompts = dataset::prompt_tokens(&table, path)?;
            (prompts, scoring::ReferenceData::of_table(path, &table))
        }
        None => (demo::prompts()?, scoring::ReferenceData::Demo),
    };
    if let Some(n) = args.max_samples {
        prompts.truncate(n);
    }
    anyhow::ensure!(!prompts.is_empty(), "the dataset has no samples");

    let accuracy = matches!(args.mode, ModeArg::Accuracy);
    let max_new_tokens = args.max_new_tokens.unwrap_or(match (demo, accuracy) {
        (true, _) => demo::MAX_NEW_TOKENS,
        (false, false) => MAX_NEW_TOKENS_PERFORMANCE,
        (false, true) => MAX_NEW_TOKENS_ACCURACY,
    });
    let timeout = args.backend.timeout()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.preflight {
        crate::preflight::before_run(&args, &runtime)?;
    }
    let backend = args.backend.build(timeout, &runtime)?;
    let (scenario_dir, mode_dir) = (args.scenario.dir_name(), mode_name(args.mode));
    std::fs::create_dir_all(&outdir).with_context(|| format!("creating {}", outdir.display()))?;
    let user_conf = match (&args.config.user_conf, demo) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => Some(write_demo_user_conf(&outdir)?),
        (None, false) => None,
    };
    let (base, model_name) =
        crate::plan::base_settings_for(args.scenario, args.mode, "gpt-oss-120b");
    let spec = TestSpec {
        base,
        model: model_name,
        mlperf_conf: args.config.mlperf_conf.clone(),
        user_conf,
        audit_config: args.config.audit_config_or_cwd(),
    };

    let streaming = !matches!(args.scenario, ScenarioArg::Offline);
    let slots = args.max_concurrency.unwrap_or(if streaming {
        Semaphore::MAX_PERMITS
    } else {
        128
    });
    anyhow::ensure!(slots > 0, "--max-concurrency must be at least 1");

    let origin = Instant::now();
    let records = Arc::new(Records::create(&outdir.join("samples.jsonl"), origin)?);
    let telemetry = args.telemetry.start(&args.backend, origin, &outdir, "")?;
    let prompts = Arc::new(prompts);
    let sut = GenerationSut {
        runtime: runtime.handle().clone(),
        state: Arc::new(SutState {
            backend,
            prompts: prompts.clone(),
            sampling: reference_sampling(max_new_tokens),
            mode: SutMode {
                streaming,
                report_all_tokens: args.report_all_tokens,
            },
            slots: Arc::new(Semaphore::new(slots.min(Semaphore::MAX_PERMITS))),
            records: records.clone(),
            timeout,
            interrupt,
        }),
    };
    let qsl = Qsl {
        samples: prompts.len(),
    };
    let say = !args.quiet;
    if say {
        eprintln!(
        "run: {} {} on {} samples, backend {:?}, max_new_tokens {max_new_tokens}{} -> {}\n     LoadGen: {}",
        scenario_dir,
        mode_dir,
        prompts.len(),
        args.backend.backend,
        if demo {
            " (demo preset: bundled sample, demo user.conf)"
        } else {
            ""
        },
        outdir.display(),
        loadgen.version()
        );
    }
    let mut source = live::LiveSource {
        title: format!("{scenario_dir} {mode_dir} · {} samples", prompts.len()),
        records: records.clone(),
        origin,
        expect: live::Expectations::of(&spec, prompts.len()),
        interrupt,
        history: Default::default(),
    };
    let view = say.then(|| {
        crate::progress::LiveView::start(move || source.state(), move || interrupt.press())
    });
    let log_settings = loadgen::LogSettings {
        outdir: outdir.clone(),
        ..Default::default()
    };
    let report = loadgen.start_test(&sut, &qsl, &spec, &log_settings);
    if let Some(view) = view {
        view.finish();
    }
    drop(sut);
    runtime.shutdown_timeout(Duration::from_secs(5));
    // After the SUT's tasks are gone: a sample is reported to LoadGen just
    // before its record is appended, so LoadGen may end a moment earlier.
    let live = records.live();
    let energy = telemetry_args::finish(telemetry, live.window_ns, live.output_tokens);
    let report = match report {
        // A config file the user named is at fault, not the run.
        Err(RunError::Config(e)) => return Err(e.into()),
        other => other.context("LoadGen could not complete the run")?,
    };
    for e in &report.config_errors {
        tracing::warn!("{e}");
    }

    live::write_results(
        &outdir.join("results.json"),
        &live,
        &report,
        origin.elapsed(),
        energy.as_ref(),
    )?;
    if say {
        live::print_summary(&outdir);
        crate::report::after_run(&outdir, args.report);
        for line in energy.iter().flat_map(|e| e.summary_lines()) {
            eprintln!("  {line}");
        }
        if let Some(line) = live::token_count_line(&live) {
            eprintln!("  {line}");
        }
        if !matches!(args.mode, ModeArg::Performance) {
            scoring::announce(&outdir, &reference)?;
        }
    }
    Ok(Outcome {
        outdir,
        errors: live.errors,
        done: live.done,
        first_error: live.first_error,
        loadgen_errors: report.errors,
        first_loadgen_error: report.first_error,
        interrupted: interrupt.requested(),
    })
}

fn mode_name(m: ModeArg) -> &'static str {
    match m {
        ModeArg::Performance => "performance",
        ModeArg::Accuracy => "accuracy",
        ModeArg::Submission => "submission",
    }
}

/// The demo preset's user.conf, written beside the logs so the run is reproducible.
fn write_demo_user_conf(outdir: &Path) -> anyhow::Result<PathBuf> {
    let path = outdir.join("demo_user.conf");
    std::fs::write(&path, demo::USER_CONF)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The QSL: every prompt is in memory, so loading is a no-op (as the reference's).
struct Qsl {
    samples: usize,
}

impl QuerySampleLibrary for Qsl {
    fn name(&self) -> String {
        "mlperf-gptoss QSL".into()
    }
    fn total_sample_count(&self) -> usize {
        self.samples
    }
    fn performance_sample_count(&self) -> usize {
        self.samples
    }
}
