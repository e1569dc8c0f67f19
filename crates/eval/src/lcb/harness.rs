//! One sample: its code and its problem's tests go to the embedded Python
//! harness (`data/lcb_harness.py`, passed with `python3 -c`) in one sandboxed
//! process; its one-line JSON answer becomes a [`SampleRun`].
//!
//! The outer limit is the official `p.join` timeout, `(timeout + 1) × n_tests +
//! 5` seconds; a process still running then is killed and every test counts -1,
//! as does a process that ends without answering (crash, `os._exit`, a
//! `SystemExit` escaping a call-based program). (The official code then trips
//! over its empty metadata list and records `[-2]`; either way the sample fails.)

use std::ffi::OsString;
use std::time::Duration;

use crate::sandbox::{Limits, Sandbox};

use super::problems::Problem;
use super::LcbConfig;
use crate::EvalError;

/// The harness source, embedded so the binary never reads the repository.
pub const HARNESS: &str = include_str!("../../data/lcb_harness.py");

/// Per-test results as the official harness records them.
pub const PASSED: i64 = 1;
/// Not run, or no answer from the process (officially `-1`).
pub const NOT_RUN: i64 = -1;
/// A stdin program printed the wrong output.
pub const WRONG_ANSWER: i64 = -2;
/// Over the per-test time limit.
pub const TIME_LIMIT: i64 = -3;
/// Raised, failed to compile or could not be called.
pub const RUNTIME_ERROR: i64 = -4;

/// What became of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleRun {
    /// Every test result is positive (officially `all(g > 0 for g in results)`).
    pub passed: bool,
    /// One per test run, up to and including the first failure: [`PASSED`], 0
    /// (`False`: a call-based wrong answer), [`WRONG_ANSWER`], [`TIME_LIMIT`],
    /// [`RUNTIME_ERROR`]; all [`NOT_RUN`] when the harness gave no answer.
    pub results: Vec<i64>,
    /// The harness' `error_code` / `error_message` (and the test index) on failure.
    pub error: Option<String>,
    /// Killed at the outer limit.
    pub outer_timeout: bool,
    /// The end of the process' stderr (a traceback when it crashed).
    pub stderr_tail: String,
    /// Isolation that could not be applied (see [`crate::sandbox::Outcome::warnings`]).
    pub warnings: Vec<String>,
    /// Wall time of the process.
    pub elapsed: Duration,
}

/// A sample's kind of outcome, for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Every test passed.
    Passed,
    /// A wrong answer (stdin `-2` or a call-based `False`).
    WrongAnswer,
    /// A test ran over its time limit.
    TimeLimit,
    /// The program raised or could not be run.
    RuntimeError,
    /// Killed at the outer limit (every test -1).
    OuterTimeout,
    /// Ended without an answer (every test -1).
    NoAnswer,
}

impl SampleRun {
    /// The kind of outcome, from the last result.
    pub fn status(&self) -> Status {
        if self.passed {
            return Status::Passed;
        }
        match self.results.last() {
            _ if self.outer_timeout => Status::OuterTimeout,
            Some(&TIME_LIMIT) => Status::TimeLimit,
            Some(&RUNTIME_ERROR) => Status::RuntimeError,
            Some(&NOT_RUN) | None => Status::NoAnswer,
            Some(_) => Status::WrongAnswer,
        }
    }
}

/// The official outer limit of a sample with `n_tests` tests.
pub fn outer_timeout(test_timeout: Duration, n_tests: usize) -> Duration {
    (test_timeout + Duration::from_secs(1)) * n_tests as u32 + Duration::from_secs(5)
}

/// The harness' stdin: a JSON header line, then the public and private test lists.
fn payload(problem: &Problem, code: &str, test_timeout: Duration) -> Result<Vec<u8>, EvalError> {
    let (public, private) = problem.tests_json()?;
    let header = serde_json::json!({
        "code": code,
        "fn_name": problem.fn_name,
        "timeout": test_timeout.as_secs_f64(),
        "public": public.len(),
        "private": private.len(),
    });
    let mut out = serde_json::to_vec(&header).expect("a JSON value serializes");
    out.push(b'\n');
    out.extend_from_slice(public.as_bytes());
    out.extend_from_slice(private.as_bytes());
    Ok(out)
}

/// The sandbox of a run with wall limit `wall`.
pub fn sandbox(config: &LcbConfig, wall: Duration) -> Sandbox {
    let mut sandbox = Sandbox::new().with_limits(Limits {
        wall,
        cpu_seconds: wall.as_secs() + 2,
        address_space: config.address_space,
        // The answer is one short line; the program's own stdout is captured
        // inside Python. This bounds a program that floods stderr.
        output_bytes: 1 << 20,
        ..Limits::default()
    });
    sandbox.log_warnings = false;
    sandbox
}

/// Runs every test of `problem` on `code` in one sandboxed python3 process,
/// killed after `wall` (normally [`outer_timeout`]). Errors only when the run
/// could not be set up (no python3, no temporary directory, a damaged problem).
pub fn run_sample(
    config: &LcbConfig,
    problem: &Problem,
    code: &str,
    wall: Duration,
) -> Result<SampleRun, EvalError> {
    let stdin = payload(problem, code, config.test_timeout)?;
    let argv: [OsString; 3] = [config.python.clone(), "-c".into(), HARNESS.into()];
    let outcome =
        sandbox(config, wall)
            .run(&argv, &stdin, &[])
            .map_err(|e| EvalError::LcbHarness {
                detail: format!("cannot start {:?} in the sandbox: {e}", config.python),
            })?;
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let tail_start = stderr.len().saturating_sub(2000);
    let tail_start = (tail_start..stderr.len())
        .find(|&i| stderr.is_char_boundary(i))
        .unwrap_or(stderr.len());
    let mut run = SampleRun {
        passed: false,
        results: vec![NOT_RUN; problem.n_tests],
        error: None,
        outer_timeout: outcome.timed_out,
        stderr_tail: stderr[tail_start..].to_string(),
        warnings: outcome.warnings.clone(),
        elapsed: outcome.elapsed,
    };
    // An answer written before a kill still counts (officially the result list
    // is filled before the process is joined).
    if let Some(answer) = last_answer(&outcome.stdout) {
        run.passed = answer.passed;
        run.results = answer.results;
        run.error = answer.error_code.map(|code| {
            let mut s = format!("{code}: {}", answer.error_message.unwrap_or_default());
            if let Some(t) = answer.test {
                s.push_str(&format!(" (test {t})"));
            }
            s
        });
    } else if run.outer_timeout {
        run.error = Some(format!(
            "killed after {:.0} s (outer limit)",
            wall.as_secs_f64()
        ));
    } else {
        run.error = Some(format!(
            "ended without an answer ({})",
            match (outcome.code(), outcome.signal()) {
                (Some(c), _) => format!("exit status {c}"),
                (_, Some(s)) => format!("signal {s}"),
                _ => "unknown status".into(),
            }
        ));
    }
    Ok(run)
}

#[derive(serde::Deserialize)]
struct Answer {
    results: Vec<i64>,
    passed: bool,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    test: Option<u64>,
}

fn last_answer(stdout: &[u8]) -> Option<Answer> {
    stdout
        .split(|&b| b == b'\n')
        .rev()
        .find_map(|line| serde_json::from_slice::<Answer>(line).ok())
}
