//! `mlperf-gptoss plan`: print what LoadGen would load and issue for these
//! settings, without running a SUT.
//!
//! Users inspect a run before spending GPU hours on it; the conformance
//! tests compare this output with what the official LoadGen issues.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use loadgen::{ConfigFiles, Mode, Scenario, TestSettings};

/// The scenario as users name it: Interactive is Server with the
/// `<model>-interactive` config keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioArg {
    Offline,
    Server,
    Interactive,
}

impl ScenarioArg {
    /// The folder of a run's logs (`<output-dir>/<this>/<mode>/`).
    pub fn dir_name(self) -> &'static str {
        match self {
            ScenarioArg::Offline => "offline",
            ScenarioArg::Server => "server",
            ScenarioArg::Interactive => "interactive",
        }
    }

    /// The scenario's folder in a submission (`compliance/SYSTEM/MODEL/<this>/`).
    pub fn submission_name(self) -> &'static str {
        match self {
            ScenarioArg::Offline => "Offline",
            ScenarioArg::Server => "Server",
            ScenarioArg::Interactive => "Interactive",
        }
    }
}

/// The test mode.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ModeArg {
    Performance,
    Accuracy,
    Submission,
}

/// LoadGen's config files, as `plan` and `run` take them.
#[derive(clap::Args, Clone)]
pub struct ConfigArgs {
    /// mlperf.conf to use instead of the built-in one (LoadGen 6.0.17, v6.1 seeds).
    #[arg(long)]
    pub mlperf_conf: Option<PathBuf>,
    /// user.conf applied on top of mlperf.conf.
    #[arg(long)]
    pub user_conf: Option<PathBuf>,
    /// audit.config applied last, with model `*` (compliance tests)
    /// [default: ./audit.config if it exists, as LoadGen].
    #[arg(long)]
    pub audit_config: Option<PathBuf>,
}

impl ConfigArgs {
    /// `--audit-config`, or `audit.config` in the current directory, which
    /// LoadGen applies whenever it is there. That silently turns any run into
    /// a compliance run, so it is announced loudly.
    pub fn audit_config_or_cwd(&self) -> Option<PathBuf> {
        if self.audit_config.is_some() {
            return self.audit_config.clone();
        }
        let cwd = PathBuf::from("audit.config");
        cwd.is_file().then(|| {
            eprintln!(
                "warning: found audit.config in the current directory; LoadGen applies it, so this is a \
                 compliance-test run (remove the file after the compliance tests)"
            );
            cwd
        })
    }
}

/// Command-line arguments of `plan`.
#[derive(clap::Args)]
pub struct Args {
    /// LoadGen scenario (interactive = Server with the <model>-interactive keys).
    #[arg(long, value_enum)]
    scenario: ScenarioArg,
    /// Test mode (a `mode` key in the config files overrides it, as in LoadGen).
    #[arg(long, value_enum, default_value = "performance")]
    mode: ModeArg,
    /// QSL total sample count (TotalSampleCount()).
    #[arg(long)]
    total_sample_count: u64,
    /// QSL performance sample count (PerformanceSampleCount()); defaults to the total.
    #[arg(long)]
    performance_sample_count: Option<u64>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Model name used for config lookups.
    #[arg(long, default_value = "gpt-oss-120b")]
    model: String,
}

/// LoadGen settings for a scenario and mode as users name them, and the
/// model name the config files are read with.
pub fn base_settings_for(
    scenario: ScenarioArg,
    mode: ModeArg,
    model: &str,
) -> (TestSettings, String) {
    let (scenario, model) = match scenario {
        ScenarioArg::Offline => (Scenario::Offline, model.to_string()),
        ScenarioArg::Server => (Scenario::Server, model.to_string()),
        ScenarioArg::Interactive => (Scenario::Server, format!("{model}-interactive")),
    };
    let mode = match mode {
        ModeArg::Performance => Mode::PerformanceOnly,
        ModeArg::Accuracy => Mode::AccuracyOnly,
        ModeArg::Submission => Mode::SubmissionRun,
    };
    (
        TestSettings {
            scenario,
            mode,
            ..TestSettings::default()
        },
        model,
    )
}

/// Prints the plan as JSON on stdout.
pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let (base, model) = base_settings_for(args.scenario, args.mode, &args.model);
    let audit_config = args.config.audit_config_or_cwd();
    let files = ConfigFiles {
        mlperf_conf: args.config.mlperf_conf.as_deref(),
        user_conf: args.config.user_conf.as_deref(),
        audit_config: audit_config.as_deref(),
    };
    let resolved = loadgen::resolve_settings(base, &model, files)?;
    for e in &resolved.config_errors {
        tracing::warn!("{e}");
    }
    let total = args.total_sample_count;
    let perf = args.performance_sample_count.unwrap_or(total);
    let plan = loadgen::plan(&resolved.settings, total, perf).context("cannot plan this run")?;

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    plan.write_json(&mut out)?;
    out.flush()?;
    Ok(std::process::ExitCode::SUCCESS)
}
