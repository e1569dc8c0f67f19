//! The demo preset: what `mlperf-gptoss run` uses with no flags, so a new
//! user sees the whole flow in about a minute on a CPU. The sample rows are
//! raw questions, harmonized here with the reference's prompt builders.

use harmony::{Cell, PromptSettings, Prompter, Row};

const SAMPLE: &str = include_str!("../../data/sample.jsonl");
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

struct JsonRow(serde_json::Map<String, serde_json::Value>);

impl Row for JsonRow {
    fn cell(&self, column: &str) -> Option<Cell> {
        Some(match self.0.get(column)? {
            serde_json::Value::String(s) => Cell::Text(s.clone()),
            other => Cell::Other(other.to_string()),
        })
    }
}
