//! `mlperf-gptoss submission run | check | pack`: the whole gpt-oss-120b
//! submission package (issue #14). `run` performs every step per scenario
//! (performance, accuracy + score, TEST07, TEST09) straight into the layout the
//! MLPerf submission checker reads, resumably; `check` applies the v6.1
//! checker's rules and what it misses; `pack` archives the tree with its sha1.
//!
//! Modules: [`layout`] (paths), [`precheck`] (fail-fast checks and estimates),
//! [`steps`] and [`state`] (the resumable steps), [`truncate`] (as
//! `truncate_accuracy_log.py`), [`systems`] and [`measurements`] (the
//! description files), [`detail_log`] and [`check`] (the checker), [`pack`].

mod check;
mod detail_log;
mod layout;
mod measurements;
mod pack;
mod precheck;
mod state;
mod steps;
mod systems;
mod truncate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Map, Value};

use crate::backend_args::BackendArgs;
use crate::plan::ScenarioArg;
use crate::run::LoadGenArg;
use layout::Layout;
use state::{State, Status};

/// Command-line arguments of `submission`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Every step of every scenario into the checker's layout; a rerun skips finished steps.
    Run(Box<RunArgs>),
    /// Check a submission tree: the v6.1 checker's rules for gpt-oss-120b and what it misses.
    Check(CheckArgs),
    /// Archive the tree (<division>/ folders) as <org>.tar.gz with its sha1.
    Pack(pack::Args),
}

/// `submission run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The submitter (the folder name under <division>/).
    #[arg(long)]
    org: String,
    /// The system's name (systems/<SYS>.json, results/<SYS>/).
    #[arg(long)]
    system: String,
    /// closed, open or network.
    #[arg(long, default_value = "closed", value_parser = ["closed", "open", "network"])]
    division: String,
    /// Scenarios, comma-separated: offline and at least one of server, interactive.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    scenarios: Vec<ScenarioArg>,
    /// Folder with perf_eval_ref, acc_eval_ref and acc_eval_compliance_gpqa
    /// (.parquet, .pkl or .jsonl; also looked for in perf/ and acc/).
    #[arg(long)]
    datasets: PathBuf,
    /// The submission directory: <out>/<division>/<org>/… plus full_logs/, runs/, state.json beside it.
    #[arg(long)]
    out: PathBuf,
    /// The system description keys this host cannot show (JSON object). Missing or
    /// incomplete: a template is written there naming each field to fill
    /// [default: <out>/system.json].
    #[arg(long)]
    system_json: Option<PathBuf>,
    /// measurements.json keys replacing the defaults (JSON object).
    #[arg(long)]
    measurements_json: Option<PathBuf>,
    /// Print the steps, what each would do and its estimated duration; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// A rehearsal: run-length settings the checker will reject (a short
    /// min_duration, Offline target_qps below 9.7) only warn.
    #[arg(long)]
    allow_short: bool,
    /// LiveCodeBench problems for scoring the accuracy set (as `eval --lcb-dir`).
    #[arg(long, value_name = "DIR")]
    lcb_dir: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
    /// mlperf.conf instead of the built-in one.
    #[arg(long)]
    mlperf_conf: Option<PathBuf>,
    /// user.conf for every step (target_qps per scenario); copied into each scenario folder.
    #[arg(long)]
    user_conf: Option<PathBuf>,
    /// Requests in flight at once (as `run`).
    #[arg(long)]
    max_concurrency: Option<usize>,
    /// Server/Interactive: report every token at completion (as `run`).
    #[arg(long)]
    report_all_tokens: bool,
    /// native (rehearsals; its logs are not submittable) or official (the MLPerf C++ LoadGen).
    #[arg(long, value_enum, default_value = "native")]
    loadgen: LoadGenArg,
    /// Check the server (`mlperf-gptoss preflight`) before each scenario's performance step.
    #[arg(long)]
    preflight: bool,
    #[command(flatten)]
    telemetry: crate::telemetry_args::TelemetryArgs,
}

/// `submission check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The submission directory (holding closed/, open/ or network/).
    submission_dir: PathBuf,
}

/// Runs the chosen subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Run(a) => run_all(*a),
        Command::Check(a) => Ok(print_check(&a.submission_dir)),
        Command::Pack(a) => pack::run(a),
    }
}

/// Prints one line per problem; the exit status says whether there were any.
fn print_check(root: &Path) -> ExitCode {
    let problems = check::check(root);
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        eprintln!("submission check: {} looks OK", root.display());
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "submission check: {} problem(s) in {}",
            problems.len(),
            root.display()
        );
        ExitCode::FAILURE
    }
}

/// Checks everything that can be checked before running, then runs the steps
/// that have not finished.
fn run_all(args: RunArgs) -> anyhow::Result<ExitCode> {
    let layout = Layout {
        out: args.out.clone(),
        division: args.division.clone(),
        org: args.org.clone(),
        system: args.system.clone(),
    };
    let mut scenarios = args.scenarios.clone();
    scenarios.sort_by_key(|s| *s as u8);
    scenarios.dedup();
    let mut problems = Vec::new();
    if !scenarios.contains(&ScenarioArg::Offline) {
        problems.push("--scenarios: Offline is required for a datacenter submission".to_string());
    }
    if !scenarios.iter().any(|s| *s != ScenarioArg::Offline) {
        problems.push(
            "--scenarios: add server or interactive (the checker requires one of them)".to_string(),
        );
    }
    if Path::new("audit.config").exists() {
        problems.push(
            "./audit.config exists: LoadGen would apply it to every run; remove it (the compliance steps bring their own)"
                .to_string(),
        );
    }
    args.loadgen.loadgen()?;
    if args.loadgen == LoadGenArg::Native {
        eprintln!("warning: --loadgen native: a rehearsal; its logs are not submittable (`submission check` reports them). Use --loadgen official for the submission.");
    }
    let configs = precheck::Configs {
        mlperf_conf: args.mlperf_conf.as_deref(),
        user_conf: args.user_conf.as_deref(),
    };
    for &scenario in &scenarios {
        let eff = precheck::performance_settings(scenario, &configs)?;
        for line in precheck::run_length(scenario, &eff) {
            if args.allow_short {
                eprintln!("warning (--allow-short): {line}");
            } else {
                problems.push(line);
            }
        }
    }
    let datasets = match precheck::datasets(&args.datasets) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.extend(e);
            None
        }
    };
    if let Some(d) = &datasets {
        if d.accuracy_has_lcb && args.lcb_dir.is_none() {
            problems.push(format!(
                "{} has LiveCodeBench rows: pass --lcb-dir (livecodebench/code_generation_lite) to score them",
                d.accuracy.display()
            ));
        }
    }
    let system_json = args
        .system_json
        .clone()
        .unwrap_or_else(|| args.out.join("system.json"));
    let system = prepare_system(&args, &layout, &system_json)?;
    if let Err(missing) = &system {
        problems.push(missing.clone());
    }
    let steps = steps::all(&scenarios);
    let mut state = State::load(&layout.state_file())?;
    print_plan(&args, &steps, &state, &configs);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        anyhow::bail!(
            "{} problem(s) before the first step; nothing was run",
            problems.len()
        );
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(datasets), Ok(system)) = (datasets, system) else {
        unreachable!("problems were reported above");
    };

    let org_dir = layout.org_dir();
    std::fs::create_dir_all(org_dir.join("systems"))
        .with_context(|| format!("creating {}", org_dir.display()))?;
    truncate::write_atomic(
        &layout.systems_json(),
        (serde_json::to_string_pretty(&system)? + "\n").as_bytes(),
    )?;
    measurements::write_org_files(&org_dir)?;
    let user_measurements = match &args.measurements_json {
        Some(p) => systems::read_user(p)?,
        None => Map::new(),
    };
    let measurement_values = measurements::measurements(&user_measurements);
    let command: Vec<String> = std::env::args().collect();
    let command = command.join(" ");
    for &scenario in &scenarios {
        let dir = layout.scenario_dir(scenario);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        measurements::write_user_conf(&dir, args.user_conf.as_deref())?;
        measurements::write_measurements(&dir, &measurement_values)?;
        write_readme(&layout, &state, scenario, &command)?;
    }

    let mut failed = Vec::new();
    for step in &steps {
        let id = step.id();
        if state.is_done(&id) {
            eprintln!("== {id}: done before, skipped");
            continue;
        }
        eprintln!("== {id}: running");
        state.set(&id, Status::Running, "")?;
        let started = Instant::now();
        let result = steps::execute(&args, &layout, &datasets, *step);
        let (status, detail) = match result {
            Ok(r) => r,
            Err(e) => {
                state.set(&id, Status::Failed, &format!("{e:#}"))?;
                return Err(e.context(format!("step {id} failed; rerun the command to retry it")));
            }
        };
        state.set(&id, status, &detail)?;
        eprintln!(
            "== {id}: {status:?}: {detail} ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        if status == Status::Failed {
            failed.push(format!("{id}: {detail}"));
        }
        write_readme(&layout, &state, step.scenario, &command)?;
    }

    let problems = check::check(&layout.out);
    eprintln!(
        "\nsubmission check of {}: {} problem(s)",
        layout.out.display(),
        problems.len()
    );
    for p in &problems {
        eprintln!("  {p}");
    }
    if failed.is_empty() {
        eprintln!(
            "all steps finished; pack with: mlperf-gptoss submission pack {}",
            layout.out.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failed {
            eprintln!("error: step {f}");
        }
        eprintln!("rerun the same command: finished steps are skipped, failed ones run again");
        Ok(ExitCode::FAILURE)
    }
}

/// The systems json from this host and `--system-json`; on first use (or with
/// fields still empty) writes the template there and names what to fill.
fn prepare_system(
    args: &RunArgs,
    layout: &Layout,
    path: &Path,
) -> anyhow::Result<Result<Map<String, Value>, String>> {
    let user = if path.is_file() {
        systems::read_user(path)?
    } else {
        Map::new()
    };
    let detected = systems::detect(&layout.out);
    let (desc, missing) =
        systems::compose(&detected, &user, &args.division, &args.org, &args.system);
    if missing.is_empty() {
        return Ok(Ok(desc));
    }
    // The template: the user's values, then what was detected, the rest empty.
    let mut template = Map::new();
    for key in systems::REQUIRED {
        if let Some(v) = desc.get(key) {
            template.insert(key.into(), v.clone());
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    truncate::write_atomic(
        path,
        (serde_json::to_string_pretty(&template)? + "\n").as_bytes(),
    )?;
    Ok(Err(format!(
        "{}: fill these system fields (the rest was detected on this host; check them too), then rerun: {}",
        path.display(),
        missing.join(", ")
    )))
}

fn write_readme(
    layout: &Layout,
    state: &State,
    scenario: ScenarioArg,
    command: &str,
) -> anyhow::Result<()> {
    let dir = layout.scenario_dir(scenario);
    let detail = dir.join("performance/run_1/mlperf_log_detail.txt");
    let loadgen = detail_log::DetailLog::read(&detail)
        .map(|l| l.text("loadgen_version"))
        .unwrap_or_else(|_| "(no performance run yet)".into());
    let steps = steps::StepKind::ALL
        .iter()
        .map(|kind| {
            let id = steps::Step {
                scenario,
                kind: *kind,
            }
            .id();
            let verdict = state
                .steps
                .get(&id)
                .map(|s| format!("{:?}: {}", s.status, s.detail))
                .unwrap_or_else(|| "not run".into());
            (kind.name().to_string(), verdict)
        })
        .collect();
    measurements::write_readme(
        &dir,
        &measurements::Readme {
            scenario: scenario.submission_name(),
            command,
            loadgen: &loadgen,
            steps,
        },
    )
}

/// Says what will happen before anything starts: each step, whether it is
/// skipped, the queries it issues and its estimated duration.
fn print_plan(
    args: &RunArgs,
    steps: &[steps::Step],
    state: &State,
    configs: &precheck::Configs<'_>,
) {
    eprintln!(
        "submission plan ({}/{} on {}):",
        args.division, args.org, args.system
    );
    // LoadGen's config reader takes files: the compliance steps' config files
    // go to a scratch folder, removed after.
    let scratch = std::env::temp_dir().join(format!("mlperf-gptoss-plan-{}", std::process::id()));
    let mut total = 0.0;
    for step in steps {
        let id = step.id();
        let audit = step.kind.test().map(|t| {
            let path = scratch.join(format!("{}.audit.config", t.name()));
            let _ = std::fs::create_dir_all(&scratch);
            let _ = std::fs::write(&path, t.audit_config());
            path
        });
        let rows = step.kind.set().rows();
        let test07_conf = (step.kind == steps::StepKind::Test07)
            .then(|| {
                precheck::user_conf_with(configs.user_conf, precheck::TEST07_USER_CONF, &scratch)
                    .ok()
            })
            .flatten();
        let step_configs = precheck::Configs {
            mlperf_conf: configs.mlperf_conf,
            user_conf: test07_conf.as_deref().or(configs.user_conf),
        };
        let estimate = precheck::estimate_seconds(
            step.scenario,
            step.kind.mode(),
            audit.as_deref(),
            rows,
            &step_configs,
        );
        let what = if state.is_done(&id) {
            "skip (done)"
        } else {
            "run"
        };
        match estimate {
            Ok((issued, seconds)) => {
                if !state.is_done(&id) {
                    total += seconds;
                }
                eprintln!(
                    "  {id:<24} {what:<12} {issued:>6} samples of {:<26} ~{}",
                    step.kind.set().stem(),
                    duration(seconds)
                );
            }
            Err(e) => eprintln!("  {id:<24} {what:<12} (no estimate: {e:#})"),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "  estimated total: ~{} (at the user.conf's target_qps)",
        duration(total)
    );
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
