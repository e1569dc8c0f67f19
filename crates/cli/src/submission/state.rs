//! The per-step state file of `submission run` (`<out>/state.json`): a step is
//! marked `running` before it starts and `done` or `failed` when it ends, so a
//! rerun knows what finished. A step that was still `running` was interrupted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::truncate::write_atomic;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Started and not finished: interrupted, if nothing runs it now.
    Running,
    /// Finished with a VALID run and clean logs; its verdict is recorded.
    Done,
    /// Finished with an INVALID run, LoadGen errors, failed samples or an error.
    Failed,
}

/// One step's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepState {
    /// How it ended.
    pub status: Status,
    /// What it ended with (the verdict, or why it failed).
    pub detail: String,
    /// How many times it has been started.
    pub attempts: u32,
}

/// Every step's record, keyed by `<Scenario>/<step>`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The records.
    pub steps: BTreeMap<String, StepState>,
    #[serde(skip)]
    path: PathBuf,
}

impl State {
    /// Reads the state file, or starts an empty one.
    pub fn load(path: &Path) -> anyhow::Result<State> {
        let mut state = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a state file of submission run; move it away to start over",
                    path.display()
                )
            })?,
            Err(_) => State::default(),
        };
        state.path = path.to_path_buf();
        Ok(state)
    }

    /// Whether the step finished and need not run again.
    pub fn is_done(&self, id: &str) -> bool {
        self.steps.get(id).is_some_and(|s| s.status == Status::Done)
    }

    /// Records a step's status and writes the file at once.
    pub fn set(&mut self, id: &str, status: Status, detail: &str) -> anyhow::Result<()> {
        let entry = self.steps.entry(id.to_string()).or_insert(StepState {
            status,
            detail: String::new(),
            attempts: 0,
        });
        if status == Status::Running {
            entry.attempts += 1;
        }
        entry.status = status;
        entry.detail = detail.to_string();
        let text = serde_json::to_string_pretty(self)? + "\n";
        write_atomic(&self.path, text.as_bytes())
    }
}
