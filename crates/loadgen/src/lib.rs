//! A faithful LoadGen (MLPerf Inference LoadGen 6.0.17) in Rust.
//!
//! This crate decides which samples a benchmark run loads and issues, when,
//! how their latencies are measured, whether the run is valid, and writes
//! the official log files. For the same settings it issues exactly what
//! the official LoadGen issues (same mt19937 streams, same libstdc++
//! distributions). It knows nothing of HTTP, tokenizers or models.
//!
//! Layers:
//! * [`TestSettings`] and [`config`]: settings and mlperf.conf / user.conf /
//!   audit.config with LoadGen's precedence and quirks.
//! * [`rng`], [`generate`]: the exact RNG, loaded sets, sample orders and
//!   Server schedules; [`plan`] puts them together without a SUT.

pub mod cnum;
pub mod config;
pub mod early_stopping;
pub mod effective;
pub mod generate;
pub mod logs;
pub mod plan;
pub mod results;
pub mod rng;
pub mod run;
pub mod settings;
pub mod sut;

pub use config::{ConfType, ConfigError, ConfigFile, ConfigLoader};
pub use effective::EffectiveSettings;
pub use generate::{Generated, LoadableSet, Query};
pub use plan::{plan, resolve_settings, ConfigFiles, Plan, Resolved, Series};
pub use settings::{Mode, Scenario, TestSettings};
