//! Many samples at once: `workers` threads each take the next sample and run it
//! in its own sandboxed process ([`run_sample`]), as the official
//! `ProcessPoolExecutor` does. A slow, crashing or hostile sample only ends its
//! own process.
//!
//! The total budget: officially `as_completed(futures, timeout=1200)` gives one
//! LiveCodeBench dataset 20 minutes, after which an uncaught `TimeoutError`
//! aborts the whole scorer (no score is printed). We keep that rule but end
//! sooner: no sample starts after the deadline, and a running one is killed at
//! it (each sample's limit is the smaller of its outer limit and the time left),
//! then the evaluation fails with [`EvalError::LcbBudget`]. `None` lifts the budget.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::harness::{outer_timeout, run_sample, SampleRun};
use super::problems::Problem;
use super::LcbConfig;
use crate::EvalError;

/// One sample to run.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    /// The problem whose tests the code runs against.
    pub problem: &'a Problem,
    /// The extracted code.
    pub code: &'a str,
}

/// How the pool ended early.
#[derive(Debug)]
pub enum PoolError {
    /// The total budget ran out with `done` of `total` samples finished.
    Budget {
        /// Samples finished.
        done: usize,
        /// Samples in the dataset.
        total: usize,
    },
    /// A run could not be set up.
    Setup(EvalError),
}

/// Attempts at setting up a run (a fork can fail for a moment under load).
const SETUP_ATTEMPTS: usize = 3;

/// Runs `jobs` on `config.workers` threads; `on_done(index, run)` is called on
/// the calling thread as each finishes. Results come back in job order.
pub fn run_jobs(
    jobs: &[Job<'_>],
    config: &LcbConfig,
    mut on_done: impl FnMut(usize, &SampleRun),
) -> Result<Vec<SampleRun>, PoolError> {
    let start = Instant::now();
    let deadline = config.total_timeout.map(|t| start + t);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = config.workers.clamp(1, jobs.len().max(1));
    let (tx, rx) = mpsc::channel::<(usize, Result<SampleRun, Stopped>)>();
    let mut runs: Vec<Option<SampleRun>> = vec![None; jobs.len()];
    let mut failure = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = run_one(job, config, deadline);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            match result {
                Ok(run) => {
                    on_done(i, &run);
                    runs[i] = Some(run);
                }
                Err(Stopped::Budget) => {
                    failure.get_or_insert(PoolError::Budget {
                        done: 0,
                        total: jobs.len(),
                    });
                }
                Err(Stopped::Setup(e)) => {
                    if !matches!(failure, Some(PoolError::Setup(_))) {
                        failure = Some(PoolError::Setup(e));
                    }
                }
            }
        }
    });
    match failure {
        Some(PoolError::Budget { total, .. }) => Err(PoolError::Budget {
            done: runs.iter().filter(|r| r.is_some()).count(),
            total,
        }),
        Some(e) => Err(e),
        None => Ok(runs
            .into_iter()
            .map(|r| r.expect("every job ran"))
            .collect()),
    }
}

enum Stopped {
    Budget,
    Setup(EvalError),
}

fn run_one(
    job: &Job<'_>,
    config: &LcbConfig,
    deadline: Option<Instant>,
) -> Result<SampleRun, Stopped> {
    let outer = outer_timeout(config.test_timeout, job.problem.n_tests);
    let mut attempt = 0;
    loop {
        let now = Instant::now();
        let (wall, capped) = match deadline {
            Some(d) if d <= now => return Err(Stopped::Budget),
            Some(d) if d - now < outer => (d - now, true),
            _ => (outer, false),
        };
        match run_sample(config, job.problem, job.code, wall) {
            Ok(run) if run.outer_timeout && capped => return Err(Stopped::Budget),
            Ok(run) => return Ok(run),
            Err(e @ EvalError::LcbProblem { .. }) => return Err(Stopped::Setup(e)),
            Err(e) => {
                attempt += 1;
                if attempt >= SETUP_ATTEMPTS {
                    return Err(Stopped::Setup(e));
                }
                std::thread::sleep(Duration::from_millis(200 * attempt as u64));
            }
        }
    }
}
