//! A faithful LoadGen (MLPerf Inference LoadGen 6.0.17) in Rust.
//!
//! This crate decides which samples a benchmark run loads and issues, when,
//! how their latencies are measured, whether the run is valid, and writes
//! the four official log files. For the same settings it issues exactly
//! what the official LoadGen issues (the same mt19937 streams through the
//! same libstdc++ distributions), and its summary and detail logs have the
//! official layout. It knows nothing of HTTP, tokenizers or models.
//!
//! A SUT implements [`SystemUnderTest`]: `issue` receives the samples of a
//! query and a [`Responder`]; the SUT reports each sample's first token and
//! completion through the responder from any thread or async task (it is
//! `Clone + Send + Sync`). Each report is timestamped on entry with a
//! monotonic clock. A dataset implements [`QuerySampleLibrary`].
//!
//! A LoadGen implements [`LoadGen`]: [`NativeLoadGen`] is this crate's
//! engine; the official C++ LoadGen can sit behind the same trait, taking
//! the SUT's reports through its own [`ResponseSink`].
//!
//! ```
//! use loadgen::{ConfigFiles, Mode, QuerySample, QuerySampleLibrary, Responder, Scenario,
//!               SystemUnderTest, TestSettings};
//!
//! struct EchoSut;
//! impl SystemUnderTest for EchoSut {
//!     fn name(&self) -> String { "EchoSUT".into() }
//!     fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
//!         // A real SUT hands these to tokio tasks and returns at once.
//!         for s in samples {
//!             let tokens: Vec<u8> = [7i32, 8, 9].iter().flat_map(|t| t.to_le_bytes()).collect();
//!             responder.first_token(s.id, &tokens[..4]);
//!             responder.complete(s.id, &tokens, 3);
//!         }
//!     }
//! }
//!
//! struct Dataset;
//! impl QuerySampleLibrary for Dataset {
//!     fn total_sample_count(&self) -> usize { 50 }
//!     fn performance_sample_count(&self) -> usize { 50 }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let base = TestSettings { scenario: Scenario::Server, mode: Mode::PerformanceOnly, ..Default::default() };
//! // The built-in mlperf.conf values for gpt-oss-120b, then user.conf / audit.config if given.
//! let mut resolved = loadgen::resolve_settings(base, "gpt-oss-120b", ConfigFiles::default())?;
//! resolved.settings.server_target_qps = 5000.0; // a user.conf would set these
//! resolved.settings.min_duration_ms = 10;
//! resolved.settings.performance_sample_count_override = 50;
//!
//! // What would be issued, without a SUT (`mlperf-gptoss plan`):
//! let plan = loadgen::plan(&resolved.settings, 50, 50)?;
//! // 100 queries: min_query_count, a whole number of passes over the 50 samples.
//! assert_eq!(plan.series[0].generated.queries.len(), 100);
//!
//! // A real run, writing mlperf_log_{summary,detail,accuracy,trace}.*:
//! let dir = tempfile::tempdir()?;
//! let logs = loadgen::LogSettings { outdir: dir.path().into(), ..Default::default() };
//! let report = loadgen::start_test(&EchoSut, &Dataset, &resolved, &logs)?;
//! let perf = report.performance.expect("a performance run");
//! assert_eq!(perf.sample_count, 100);
//! # Ok(()) }
//! ```
//!
//! The source, in the order a run uses it (all modules are private; what
//! callers need is re-exported here):
//! * `settings`, `config`, `cnum`, `effective`: requested settings, the
//!   mlperf.conf / user.conf / audit.config reader with LoadGen's
//!   precedence and quirks, and the per-scenario normalisation.
//! * `rng`, `generate`, `plan`: the exact RNG, loaded sets, sample
//!   orders and Server schedules, and the dry run built on them.
//! * `sut`, `api`, `recorder`, `run`: the SUT/QSL interface, the
//!   [`LoadGen`] trait, the native engine's response sink and the run
//!   engine.
//! * `results`, `early_stopping`, `logs`: latencies, validity and the
//!   log files.
//!
//! Deliberate differences from LoadGen are listed in `README.md`.

mod api;
mod cnum;
mod config;
mod early_stopping;
mod effective;
mod generate;
mod logs;
mod plan;
mod recorder;
mod results;
mod rng;
mod run;
mod settings;
mod sut;

pub use api::{LoadGen, NativeLoadGen, TestSpec};
pub use config::{ConfType, ConfigError, ConfigFile, ConfigLoader, BUILTIN_MLPERF_CONF};
pub use early_stopping::early_stopping_estimate;
pub use early_stopping::early_stopping_min_queries;
pub use early_stopping::EarlyStoppingEstimate;
pub use effective::EffectiveSettings;
pub use generate::{GenerateError, Generated, LoadableSet, Query};
pub use plan::{plan, resolve_settings, ConfigFiles, Plan, Resolved, Series};
pub use results::{LatencyStats, PerformanceResult, PerformanceSummary, PERCENTILES};
pub use run::{start_test, LogSettings, RunError, TestReport};
pub use settings::{Mode, Scenario, TestSettings};
pub use sut::{QuerySample, QuerySampleLibrary, Responder, ResponseSink, SystemUnderTest};

/// Internals that the integration tests check against the official
/// LoadGen's vectors and logs. Not part of the API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::early_stopping::min_passing_queries;
    pub use crate::generate::{generate_queries, loadable_sets};
    pub use crate::logs::summary::write_summary;
    pub use crate::rng::Mt19937;
}
