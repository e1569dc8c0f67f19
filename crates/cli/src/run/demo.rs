//! The demo preset: what `mlperf-gptoss run` uses with no flags, so a new
//! user sees the whole flow (run, accuracy run, eval, report) in a few
//! minutes on a CPU. The sample rows are raw questions of sub-datasets that
//! `eval` can score, harmonized here with the reference's prompt builders;
//! its LiveCodeBench rows name problems of our own making
//! (`data/demo_lcb/test.jsonl`, in the official `code_generation_lite` format).

use std::path::{Path, PathBuf};

use anyhow::Context;
use harmony::{Cell, PromptSettings, Prompter, Row};

/// The bundled sample: `dataset`, `question`, `ground_truth` per row; it is
/// also the reference data `eval` scores the demo against.
const SAMPLE: &str = include_str!("../../data/sample.jsonl");
/// The LiveCodeBench problems the sample's `livecodebench` rows name.
const LCB_PROBLEMS: &str = include_str!("../../data/demo_lcb/test.jsonl");
/// A short run instead of mlperf.conf's 600 s minimum (see the file).
pub const USER_CONF: &str = include_str!("../../data/demo_user.conf");
/// Output tokens per sample for the demo (the tiny model on a CPU).
pub const MAX_NEW_TOKENS: u32 = 64;

/// The bundled sample's prompts, as harmony token ids.
pub fn prompts() -> anyhow::Result<Vec<Vec<u32>>> {
    let prompter = Prompter::new(PromptSettings::default())?;
    SAMPLE
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)?;
            Ok(prompter.render_row(index, &JsonRow(row))?.ids)
        })
        .collect()
}

/// What `eval` needs to score a demo accuracy run, written beside its logs.
pub struct EvalInputs {
    /// The sample itself: its `dataset` and `ground_truth` columns.
    pub reference: PathBuf,
    /// A `code_generation_lite` folder holding the demo's problems.
    pub lcb_dir: PathBuf,
}

/// Writes the reference data and the LiveCodeBench problems into `outdir`.
pub fn write_eval_inputs(outdir: &Path) -> anyhow::Result<EvalInputs> {
    let inputs = EvalInputs {
        reference: outdir.join("demo_reference.jsonl"),
        lcb_dir: outdir.join("demo_lcb"),
    };
    std::fs::create_dir_all(&inputs.lcb_dir)
        .with_context(|| format!("creating {}", inputs.lcb_dir.display()))?;
    // Every problem is in the first file of release_v6; the others are
    // there, empty, so that eval does not warn about missing files.
    let lcb_files = eval::lcb::RELEASE_V6_FILES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                inputs.lcb_dir.join(name),
                if i == 0 { LCB_PROBLEMS } else { "" },
            )
        });
    for (path, text) in std::iter::once((inputs.reference.clone(), SAMPLE)).chain(lcb_files) {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(inputs)
}

struct JsonRow(serde_json::Map<String, serde_json::Value>);

impl Row for JsonRow {
    fn cell(&self, column: &str) -> Option<Cell> {
        Some(match self.0.get(column)? {
            serde_json::Value::String(s) => Cell::Text(s.clone()),
            other => Cell::Other(other.to_string()),
        })
    }
}
