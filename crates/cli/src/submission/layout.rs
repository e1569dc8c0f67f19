//! Where everything goes: the checker's folder layout under the submission
//! directory, and what `submission run` keeps beside it (the full accuracy
//! logs, each step's own run folder, the step state).
//!
//! ```text
//! <out>/<division>/<org>/systems/<system>.json
//! <out>/<division>/<org>/{src,documentation}/
//! <out>/<division>/<org>/results/<system>/gpt-oss-120b/<Scenario>/…   the tree the checker reads
//! <out>/full_logs/<the same relative path>/mlperf_log_accuracy.json    untruncated, outside the tree
//! <out>/runs/<Scenario>/<step>/                                         each step's raw run output
//! <out>/state.json                                                      what each step did
//! ```

use std::path::{Path, PathBuf};

use crate::plan::ScenarioArg;

/// The benchmark's folder name (the only name the checker knows for it).
pub const BENCHMARK: &str = "gpt-oss-120b";
/// The divisions the checker walks.
pub const DIVISIONS: [&str; 3] = ["closed", "open", "network"];
/// The folder beside the tree holding the untruncated accuracy logs.
pub const FULL_LOGS: &str = "full_logs";

/// One submission's paths.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The submission directory (`--out`), holding `<division>/`.
    pub out: PathBuf,
    /// `closed`, `open` or `network`.
    pub division: String,
    /// The submitter's folder name.
    pub org: String,
    /// The system's name (`systems/<system>.json`, `results/<system>/`).
    pub system: String,
}

impl Layout {
    /// `<out>/<division>/<org>`.
    pub fn org_dir(&self) -> PathBuf {
        self.out.join(&self.division).join(&self.org)
    }

    /// `systems/<system>.json`.
    pub fn systems_json(&self) -> PathBuf {
        self.org_dir()
            .join("systems")
            .join(format!("{}.json", self.system))
    }

    /// `results/<system>/gpt-oss-120b/<Scenario>`.
    pub fn scenario_dir(&self, scenario: ScenarioArg) -> PathBuf {
        self.org_dir()
            .join("results")
            .join(&self.system)
            .join(BENCHMARK)
            .join(scenario.submission_name())
    }

    /// A step's own run folder, outside the tree.
    pub fn run_dir(&self, scenario: ScenarioArg, step: &str) -> PathBuf {
        self.out
            .join("runs")
            .join(scenario.submission_name())
            .join(step)
    }

    /// The state file of `submission run`.
    pub fn state_file(&self) -> PathBuf {
        self.out.join("state.json")
    }
}

/// Where the untruncated copy of `file` (a path inside the tree under `out`) is kept.
pub fn full_copy_of(out: &Path, file: &Path) -> PathBuf {
    let relative = file.strip_prefix(out).unwrap_or(file);
    out.join(FULL_LOGS).join(relative)
}

/// `path` relative to `base` for messages, or whole when it is not under it.
pub fn shown(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
