//! The files the checker wants beside the logs: `measurements.json`, a
//! non-empty `user.conf` and `README.md` per scenario, and the submitter's
//! `src/` and `documentation/` folders.

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map, Value};

use super::truncate::write_atomic;

/// The keys `measurements.json` must hold, each non-empty.
pub const MEASUREMENT_KEYS: [&str; 5] = [
    "input_data_types",
    "retraining",
    "starting_weights_filename",
    "weight_data_types",
    "weight_transformations",
];

/// gpt-oss-120b as published: token ids in, the MXFP4 checkpoint unchanged.
/// A `--measurements-json` replaces any of these.
pub fn measurements(user: &Map<String, Value>) -> Value {
    let mut m = json!({
        "input_data_types": "int32 (token ids)",
        "retraining": "no",
        "starting_weights_filename": "openai/gpt-oss-120b (Hugging Face)",
        "weight_data_types": "mxfp4 (MoE experts), bf16 (all other weights)",
        "weight_transformations": "none"
    });
    for (k, v) in user {
        m[k] = v.clone();
    }
    m
}

/// Writes `measurements.json` into a scenario folder.
pub fn write_measurements(scenario_dir: &Path, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    write_atomic(&scenario_dir.join("measurements.json"), text.as_bytes())
}

/// The scenario's `user.conf`: the one the runs used, or a note that they used
/// mlperf.conf's values alone (the checker wants the file non-empty).
pub fn write_user_conf(scenario_dir: &Path, user_conf: Option<&Path>) -> anyhow::Result<()> {
    let text = match user_conf {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the user.conf {}", path.display()))?,
        None => "# No user.conf: every setting is mlperf.conf's.\n".to_string(),
    };
    write_atomic(&scenario_dir.join("user.conf"), text.as_bytes())
}

/// What the generated README of a scenario says.
pub struct Readme<'a> {
    /// `Offline`, `Server` or `Interactive`.
    pub scenario: &'a str,
    /// The command line that produced the results.
    pub command: &'a str,
    /// `loadgen_version` of the performance run, when it has one.
    pub loadgen: &'a str,
    /// One line per step: its name and what it ended with.
    pub steps: Vec<(String, String)>,
}

/// Writes the scenario's README.md: how the results were produced, and the versions.
pub fn write_readme(scenario_dir: &Path, r: &Readme<'_>) -> anyhow::Result<()> {
    let steps: String = r
        .steps
        .iter()
        .map(|(step, verdict)| format!("| {step} | {verdict} |\n"))
        .collect();
    let text = format!(
        "# gpt-oss-120b, {scenario}\n\n\
         Produced by `mlperf-gptoss submission run` (mlperf-gptoss {version}), which runs, in order, \
         the performance run, the accuracy run and its scoring (`accuracy/accuracy.txt`), TEST07 \
         and TEST09, then truncates the accuracy logs as `truncate_accuracy_log.py` does.\n\n\
         ## Command\n\n```\n{command}\n```\n\n\
         ## Versions\n\n\
         * mlperf-gptoss {version}\n\
         * LoadGen: {loadgen}\n\
         * mlperf.conf: the built-in copy (LoadGen 6.0.17, v6.1 seeds) unless the command names one\n\n\
         ## Steps\n\n| step | result |\n|---|---|\n{steps}",
        scenario = r.scenario,
        version = env!("CARGO_PKG_VERSION"),
        command = r.command,
        loadgen = r.loadgen,
    );
    write_atomic(&scenario_dir.join("README.md"), text.as_bytes())
}

/// `src/` (the checker requires the folder) and `documentation/calibration.md`
/// (required in the closed division), unless the submitter wrote their own.
pub fn write_org_files(org_dir: &Path) -> anyhow::Result<()> {
    let files = [
        (
            "src/README.md",
            format!(
                "# Source\n\nThe results were produced with mlperf-gptoss {} (`mlperf-gptoss submission run`); \
                 its source is the mlperf-gptoss repository at the same version.\n",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        (
            "documentation/calibration.md",
            "# Calibration\n\nNo calibration: gpt-oss-120b runs with its published MXFP4 weights, unchanged.\n"
                .to_string(),
        ),
    ];
    for (name, text) in files {
        let path = org_dir.join(name);
        if path.exists() {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
}
