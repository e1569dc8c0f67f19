//! Accuracy scoring of MLPerf GPT-OSS-120B accuracy logs, giving the score the
//! official `eval_mlperf_accuracy.py` gives on the same log (upstream-gptoss.md §6).
//!
//! The flow: [`AccuracyLog`] (LoadGen's `mlperf_log_accuracy.json`; only `data` is
//! read, as officially) and [`Reference`] (`dataset`, `ground_truth` of the parquet
//! or pickle) go into [`evaluate()`], which decodes each output with special tokens
//! kept, grades it with its sub-dataset's [`Grader`], and returns per-entry
//! results; [`Summary`] turns the counts into the repeat-weighted score, the
//! printed table, the `'exact_match': X` line and the `--output-file` JSON.
//!
//! Fidelity: the official scorer's regular expressions are Python `re` patterns
//! (Unicode `\s`/`\w`/`\b`/`\d`, `re.IGNORECASE` case folding, a lookahead). Each is
//! listed as data in `src/patterns.rs` and implemented by a hand-written matcher
//! with the same semantics; `src/pychars.rs` holds Python's character classes,
//! generated from Python itself. `tests/python_oracle.rs` compares every matcher
//! with CPython's `re` on the test corpus and on generated strings. Python's
//! `int()`, `str.upper()`, `bytes.fromhex`, `repr(float)` and `json.dump(indent=2)`
//! are reproduced where their results show.
//!
//! [`save_outputs`] writes every scored output (`--save-outputs`).
//!
//! LiveCodeBench: the code [`parse_code`] extracts is run against the problem's
//! tests by [`lcb`] (our own Python harness with the official semantics, one
//! [`sandbox`]ed `python3` process per sample, many samples in parallel); the
//! problems come from a local `code_generation_lite` ([`Options::lcb_dir`]), or
//! the entries are left out with [`Options::skip_lcb`].
//!
//! Not here yet: MATH-500's PRM800K grader (not in the gpt-oss accuracy set).
//!
//! ```no_run
//! use std::path::Path;
//! let log = eval::AccuracyLog::read(Path::new("mlperf_log_accuracy.json"))?;
//! let reference = eval::Reference::read(Path::new("acc_eval_ref.parquet"))?;
//! let evaluation = eval::evaluate(&log, &reference, &eval::Options::default())?;
//! let summary = eval::Summary::new(&evaluation.counts);
//! print!("{}{}", summary.table(), summary.checker_lines());
//! # Ok::<(), eval::EvalError>(())
//! ```

mod aime;
mod choice;
mod code;
pub mod compliance;
mod error;
mod evaluate;
mod extract;
mod grade;
pub mod lcb;
mod log;
mod patterns;
mod pychars;
mod pyjson;
mod reference;
mod report;
pub mod sandbox;
mod saved;

pub use choice::parse_multiple_choice;
pub use code::parse_code;
pub use error::EvalError;
pub use evaluate::{evaluate, DatasetCount, EntryResult, Evaluation, Options};
pub use extract::final_section;
pub use grade::{grade, Grader, Verdict};
pub use log::{AccuracyLog, LogEntry};
pub use pyjson::Json;
pub use reference::{GroundTruth, Reference};
pub use report::{
    accuracy_target, output_json, Summary, ACCURACY_REFERENCE, ACCURACY_TARGET_FRACTION,
    DATASET_REPEATS,
};
pub use saved::{outputs_table, save_outputs, saved_columns};

/// Internals that the integration tests compare with Python itself; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::patterns::{apply, Applied, Call, Pattern, ALL as PATTERNS};
    pub use crate::pychars::{fromhex, strip, NotHex};
}
