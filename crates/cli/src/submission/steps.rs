//! The steps of `submission run`, per scenario: the performance run, the
//! accuracy run and its score, TEST07, TEST09. Each calls the `run`, `eval`
//! and `compliance` code directly, writes into the checker's layout, and
//! records how it ended in the state file.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::check::{exact_match, ACCURACY_TARGET};
use super::layout::{full_copy_of, Layout};
use super::precheck::{Datasets, Set};
use super::state::Status;
use super::truncate::{truncate_accuracy_dir, Kind, ACCURACY_LOG};
use super::RunArgs;
use crate::plan::{ConfigArgs, ModeArg, ScenarioArg};

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A performance run (≥ 600 s, VALID).
    Performance,
    /// An accuracy run on the whole accuracy set, then its score.
    Accuracy,
    /// TEST07: accuracy in performance mode on the GPQA compliance set.
    Test07,
    /// TEST09: output length in performance mode on the performance set.
    Test09,
}

impl StepKind {
    /// All of them, in the order they run.
    pub const ALL: [StepKind; 4] = [
        StepKind::Performance,
        StepKind::Accuracy,
        StepKind::Test07,
        StepKind::Test09,
    ];

    /// Its name in the state file and the plan.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Performance => "performance",
            StepKind::Accuracy => "accuracy",
            StepKind::Test07 => "TEST07",
            StepKind::Test09 => "TEST09",
        }
    }

    /// The dataset it runs on.
    pub fn set(self) -> Set {
        match self {
            StepKind::Performance | StepKind::Test09 => Set::Performance,
            StepKind::Accuracy => Set::Accuracy,
            StepKind::Test07 => Set::Compliance,
        }
    }

    /// LoadGen's mode for it (the compliance tests are performance runs).
    pub fn mode(self) -> ModeArg {
        match self {
            StepKind::Accuracy => ModeArg::Accuracy,
            _ => ModeArg::Performance,
        }
    }

    /// The compliance test, for TEST07 and TEST09.
    pub fn test(self) -> Option<eval::compliance::Test> {
        match self {
            StepKind::Test07 => Some(eval::compliance::Test::Test07),
            StepKind::Test09 => Some(eval::compliance::Test::Test09),
            _ => None,
        }
    }
}

/// One step of one scenario.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The scenario.
    pub scenario: ScenarioArg,
    /// What it does.
    pub kind: StepKind,
}

impl Step {
    /// Its key in the state file: `<Scenario>/<step>`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.scenario.submission_name(), self.kind.name())
    }
}

/// Every step, scenario by scenario.
pub fn all(scenarios: &[ScenarioArg]) -> Vec<Step> {
    scenarios
        .iter()
        .flat_map(|&scenario| StepKind::ALL.map(|kind| Step { scenario, kind }))
        .collect()
}

/// The `run` arguments of a step: the user's backend and run flags, the step's
/// scenario, mode and dataset, its own output folder.
fn run_args(args: &RunArgs, step: Step, dataset: &Path, output_dir: PathBuf) -> crate::run::Args {
    crate::run::Args {
        scenario: step.scenario,
        mode: step.kind.mode(),
        dataset: Some(dataset.to_path_buf()),
        max_samples: None,
        backend: args.backend.clone(),
        config: ConfigArgs {
            mlperf_conf: args.mlperf_conf.clone(),
            user_conf: args.user_conf.clone(),
            audit_config: None,
        },
        output_dir,
        max_concurrency: args.max_concurrency,
        max_new_tokens: None,
        report_all_tokens: args.report_all_tokens,
        loadgen: args.loadgen,
        preflight: args.preflight && matches!(step.kind, StepKind::Performance),
        telemetry: args.telemetry.clone(),
        quiet: false,
        // report.html stays out of the checker's tree; `report` reads the full logs.
        report: false,
    }
}

/// What the step leaves in the tree: removed before it runs again, so a rerun
/// never mixes files of two attempts.
fn outputs(layout: &Layout, step: Step) -> Vec<PathBuf> {
    let scenario = layout.scenario_dir(step.scenario);
    let inside = match step.kind {
        StepKind::Performance => scenario.join("performance"),
        StepKind::Accuracy => scenario.join("accuracy"),
        StepKind::Test07 => scenario.join("TEST07"),
        StepKind::Test09 => scenario.join("TEST09"),
    };
    let full = full_copy_of(&layout.out, &inside);
    vec![
        inside,
        full,
        layout.run_dir(step.scenario, step.kind.name()),
    ]
}

/// Runs one step; returns how it ended and its verdict. An `Err` is a failure
/// that stops `submission run` (a config error, an unreachable server).
pub fn execute(
    args: &RunArgs,
    layout: &Layout,
    datasets: &Datasets,
    step: Step,
) -> anyhow::Result<(Status, String)> {
    for path in outputs(layout, step) {
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    let dataset = datasets.path(step.kind.set());
    let run_dir = layout.run_dir(step.scenario, step.kind.name());
    let scenario_dir = layout.scenario_dir(step.scenario);
    std::fs::create_dir_all(&scenario_dir)
        .with_context(|| format!("creating {}", scenario_dir.display()))?;
    let mut run = run_args(args, step, dataset, run_dir.clone());
    if step.kind == StepKind::Test07 {
        let conf = super::precheck::user_conf_with(
            args.user_conf.as_deref(),
            super::precheck::TEST07_USER_CONF,
            &run_dir,
        )?;
        run.config.user_conf = Some(conf);
    }
    match step.kind {
        StepKind::Performance => performance(run, &scenario_dir.join("performance/run_1")),
        StepKind::Accuracy => accuracy(args, run, layout, &scenario_dir.join("accuracy"), dataset),
        StepKind::Test07 | StepKind::Test09 => compliance(step, run, layout, &scenario_dir),
    }
}

/// Copies LoadGen's files of a run into a tree folder.
fn copy_logs(from: &Path, to: &Path, names: &[&str]) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for name in names {
        std::fs::copy(from.join(name), to.join(name)).with_context(|| {
            format!(
                "copying {} into {}",
                from.join(name).display(),
                to.display()
            )
        })?;
    }
    Ok(())
}

const SUMMARY: &str = "mlperf_log_summary.txt";
const DETAIL: &str = "mlperf_log_detail.txt";

fn performance(run: crate::run::Args, tree: &Path) -> anyhow::Result<(Status, String)> {
    let outcome = crate::run::execute(run)?;
    copy_logs(&outcome.outdir, tree, &[SUMMARY, DETAIL])?;
    let summary = std::fs::read_to_string(tree.join(SUMMARY)).unwrap_or_default();
    let valid = summary.contains("Result is : VALID");
    let mut problems = outcome.problems();
    if !valid {
        let why = summary
            .lines()
            .find(|l| l.starts_with("Result is"))
            .unwrap_or("no result line")
            .to_string();
        problems.insert(0, format!("{why} (see {})", tree.join(SUMMARY).display()));
    }
    Ok(if problems.is_empty() {
        (Status::Done, "VALID".into())
    } else {
        (Status::Failed, problems.join("; "))
    })
}

fn accuracy(
    args: &RunArgs,
    run: crate::run::Args,
    layout: &Layout,
    tree: &Path,
    reference: &Path,
) -> anyhow::Result<(Status, String)> {
    let outcome = crate::run::execute(run)?;
    copy_logs(&outcome.outdir, tree, &[SUMMARY, DETAIL, ACCURACY_LOG])?;
    let problems = outcome.problems();
    if !problems.is_empty() {
        return Ok((Status::Failed, problems.join("; ")));
    }
    let scorer = crate::eval::Args::for_log(
        outcome.outdir.join(ACCURACY_LOG),
        reference.to_path_buf(),
        args.lcb_dir.clone(),
    );
    let text = crate::eval::score(scorer)?;
    super::truncate::write_atomic(&tree.join("accuracy.txt"), text.as_bytes())?;
    let full = full_copy_of(&layout.out, &tree.join(ACCURACY_LOG));
    truncate_accuracy_dir(tree, Kind::Accuracy, &full)?;
    Ok(match exact_match(&text) {
        Some(score) if score >= ACCURACY_TARGET => (
            Status::Done,
            format!("exact_match {score} (target {ACCURACY_TARGET:.4} met)"),
        ),
        Some(score) => (
            Status::Done,
            format!("exact_match {score} (below the target {ACCURACY_TARGET:.4})"),
        ),
        None => (
            Status::Failed,
            "the scorer printed no 'exact_match' line (see accuracy.txt)".into(),
        ),
    })
}

fn compliance(
    step: Step,
    run: crate::run::Args,
    layout: &Layout,
    scenario_dir: &Path,
) -> anyhow::Result<(Status, String)> {
    let test = step.kind.test().context("not a compliance step")?;
    let pass = crate::compliance::execute(crate::compliance::Args::for_submission(
        test,
        scenario_dir.to_path_buf(),
        run,
    ))?;
    let acc_dir = scenario_dir.join(test.name()).join("accuracy");
    let full = full_copy_of(&layout.out, &acc_dir.join(ACCURACY_LOG));
    truncate_accuracy_dir(&acc_dir, Kind::Compliance, &full)?;
    let verdict = if pass { "TEST PASS" } else { "TEST FAIL" };
    Ok((Status::Done, verdict.into()))
}
