//! LiveCodeBench code execution with the official semantics
//! (upstream-gptoss.md §6.4): problems from a local `code_generation_lite`
//! ([`LcbProblems`]), each sample's code run against all of its problem's tests
//! in one sandboxed `python3` process by our own harness
//! (`data/lcb_harness.py`, [`run_sample`]), many samples in parallel
//! ([`run_jobs`]), verdicts worded as the official scorer words them
//! ([`grade_dataset`]).
//!
//! ```no_run
//! use std::path::Path;
//! let problems = eval::lcb::LcbProblems::load(Path::new("code_generation_lite"))?;
//! let config = eval::lcb::LcbConfig::default();
//! let problem = problems.get("abc123_a").expect("known id");
//! let run = eval::lcb::run_sample(&config, problem, "print(input())",
//!     eval::lcb::outer_timeout(config.test_timeout, problem.n_tests))?;
//! println!("passed: {}, results {:?}", run.passed, run.results);
//! # Ok::<(), eval::EvalError>(())
//! ```

mod encoding;
mod grade;
mod harness;
mod pool;
mod problems;

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use grade::{grade_dataset, LcbStats, Sample};
pub use harness::{
    outer_timeout, run_sample, SampleRun, Status, HARNESS, NOT_RUN, PASSED, RUNTIME_ERROR,
    TIME_LIMIT, WRONG_ANSWER,
};
pub use pool::{run_jobs, Job, PoolError};
pub use problems::{LcbProblems, Problem, RELEASE_V6_FILES};

/// BENCHMARK DEFINITION: the official per-test timeout (`timeout=60`).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// BENCHMARK DEFINITION: the official total budget of one LiveCodeBench dataset
/// (`as_completed(..., timeout=1200)`).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(1200);
/// BENCHMARK DEFINITION: the default of `--num-lcb-workers`.
pub const MAX_WORKERS: usize = 64;

/// Progress of a dataset's execution, for a caller's progress display.
#[derive(Clone, Copy, Debug)]
pub enum LcbProgress<'a> {
    /// The problems were read (before any dataset is graded).
    Loaded {
        /// The `code_generation_lite` directory.
        dir: &'a std::path::Path,
        /// Problems in the files.
        problems: usize,
        /// Of those, named by the log (kept).
        named: usize,
        /// Expected files that are not there.
        missing: &'a [String],
    },
    /// A dataset starts running.
    Started {
        /// The dataset.
        dataset: &'a str,
        /// Samples to run.
        samples: usize,
        /// Tests in those samples.
        tests: usize,
        /// Samples run at once.
        workers: usize,
    },
    /// One sample finished.
    SampleDone {
        /// The dataset.
        dataset: &'a str,
    },
    /// Every sample of the dataset finished.
    Finished {
        /// The dataset.
        dataset: &'a str,
    },
}

/// Called with each [`LcbProgress`] event, on the evaluating thread.
pub type ProgressFn = Arc<dyn Fn(LcbProgress<'_>) + Send + Sync>;

/// How LiveCodeBench samples are run. The defaults are the official values.
#[derive(Clone)]
pub struct LcbConfig {
    /// Per-test alarm (official 60 s); the outer limit follows from it.
    pub test_timeout: Duration,
    /// Total budget of one dataset (official 1200 s); None: no budget.
    pub total_timeout: Option<Duration>,
    /// Samples run at once (official `min(cpu_count, 64)`).
    pub workers: usize,
    /// The Python to run (looked up in `/usr/local/bin:/usr/bin:/bin`).
    pub python: OsString,
    /// `RLIMIT_AS` of each sample's process (officially none; 4 GiB here).
    pub address_space: u64,
    /// Called with each [`LcbProgress`] event (None: no progress display).
    pub progress: Option<ProgressFn>,
}

impl Default for LcbConfig {
    fn default() -> Self {
        LcbConfig {
            test_timeout: TEST_TIMEOUT,
            total_timeout: Some(TOTAL_TIMEOUT),
            workers: default_workers(),
            python: "python3".into(),
            address_space: 4 << 30,
            progress: None,
        }
    }
}

impl fmt::Debug for LcbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LcbConfig")
            .field("test_timeout", &self.test_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("workers", &self.workers)
            .field("python", &self.python)
            .field("address_space", &self.address_space)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// `min(cores available to this process, 64)`.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_WORKERS)
}

/// Runs a known-good sample first, so a missing or too old python3 (the harness
/// needs 3.11+ for `sys.set_int_max_str_digits`) is one clear error instead of
/// thousands of failed samples. Returns warnings about the interpreter (no
/// numpy, which the official environment has).
pub fn check_python(config: &LcbConfig) -> Result<Vec<String>, crate::EvalError> {
    let line = r#"{"question_id": "self-check", "public_test_cases": "[{\"input\": \"21\\n\", \"output\": \"42\\n\", \"testtype\": \"stdin\"}]", "private_test_cases": "[]", "metadata": "{}"}"#;
    let problem = problems::parse_builtin(line)?;
    let code = "import sys\nprint(int(input()) * 2)\nsys.stderr.write('numpy=%s' % ('numpy' in sys.modules))";
    let run = run_sample(config, &problem, code, Duration::from_secs(30))?;
    if !run.passed {
        return Err(crate::EvalError::LcbHarness {
            detail: format!(
                "{:?} could not run the LiveCodeBench harness on a known-good program ({}); \
                 it needs Python 3.11 or newer with the standard library{}",
                config.python,
                run.error.unwrap_or_default(),
                if run.stderr_tail.is_empty() {
                    String::new()
                } else {
                    format!("; its stderr ends:\n{}", run.stderr_tail)
                }
            ),
        });
    }
    let mut warnings = Vec::new();
    if !run.stderr_tail.contains("numpy=True") {
        warnings.push(format!(
            "LiveCodeBench: numpy is not importable by {:?} in the sandbox (as a fresh user, \
             with PATH /usr/local/bin:/usr/bin:/bin); programs that use it fail, while the \
             official environment has it. Install it system-wide or pass --lcb-python",
            config.python
        ));
    }
    Ok(warnings)
}
