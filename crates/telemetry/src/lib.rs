//! The `telemetry` crate: what the server and the GPUs did during a run, on
//! the run's own clock (the origin of `samples.jsonl`), so that a queue
//! building up, the KV cache filling or speculative decoding accepting
//! less can be laid beside LoadGen's queries, and energy can be windowed
//! to LoadGen's measured window.
//!
//! What it owns:
//! * [`Page`]: a Prometheus text page (parsed with `prom_text_format_parser`);
//! * [`names`]: SGLang, vLLM and TensorRT-LLM metric names mapped onto
//!   common names (running, queued, KV usage, prefix-cache hit rate,
//!   generation throughput, speculative acceptance, preemptions), as data;
//! * [`Scraper`]: each server's page every interval on a thread of its
//!   own, written to `server_metrics.jsonl`, failures as gaps;
//! * [`Power`]: GPU power from NVML (loaded at run time), a DCGM exporter
//!   or a command, at 10 Hz or faster, written to `power.jsonl`;
//! * [`energy()`](fn@energy) and [`EnergyReport`]: joules, average and
//!   peak watts per GPU, joules per output token and tokens/s per kW.
//!
//! What it does not: LoadGen, requests, the summary's wording (`cli`).
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//! use telemetry::{PowerSource, Telemetry, TelemetryConfig};
//! let origin = Instant::now();
//! let config = TelemetryConfig {
//!     scrape: None,
//!     power: Some((PowerSource::Command("echo 300".into()), Duration::from_millis(100))),
//!     http: Default::default(),
//! };
//! let session = Telemetry::start(&config, origin, std::path::Path::new("out"), "")?;
//! // ... the run ...
//! let stopped = session.stop();
//! if let Some(trace) = &stopped.power {
//!     let report = telemetry::EnergyReport::new(trace, (0, 5_000_000_000), 12_345);
//!     println!("{} J", report.joules);
//! }
//! # Ok::<(), telemetry::Error>(())
//! ```

mod energy;
mod jsonl;
pub mod names;
mod power;
mod prom;
mod report;
mod scrape;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use backend::HttpConfig;
pub use energy::{energy, integrate, Energy, GpuEnergy};
pub use power::{
    dcgm_watts, parse_watts_line, Power, PowerSample, PowerSampler, PowerSource, PowerTrace,
};
pub use prom::{Page, Series};
pub use regex::Regex;
pub use report::EnergyReport;
pub use scrape::{keep_pattern, ScrapeConfig, ScrapeRecord, Scraper};

/// What went wrong starting telemetry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An output file could not be created.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A setting cannot work (named in the message).
    #[error("{0}")]
    Config(String),
    /// The power source asked for is not there.
    #[error("{0}")]
    Power(String),
}

/// Everything a run's telemetry needs.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// Server pages to scrape, if any.
    pub scrape: Option<ScrapeConfig>,
    /// The power source and its sampling interval, if any.
    pub power: Option<(PowerSource, Duration)>,
    /// TLS settings for the DCGM exporter's page.
    pub http: HttpConfig,
}

/// Telemetry running beside a run.
pub struct Telemetry {
    scraper: Option<Scraper>,
    power: Option<PowerSampler>,
    /// Lines to show the user once (no NVML, for instance).
    pub notes: Vec<String>,
}

/// What telemetry left when it stopped.
pub struct Stopped {
    /// The power readings, when power was sampled.
    pub power: Option<PowerTrace>,
}

impl Telemetry {
    /// Starts scraping and power sampling, writing
    /// `{dir}/{prefix}server_metrics.jsonl` and `{dir}/{prefix}power.jsonl`.
    pub fn start(
        config: &TelemetryConfig,
        origin: Instant,
        dir: &Path,
        prefix: &str,
    ) -> Result<Telemetry, Error> {
        let mut notes = Vec::new();
        let power = match &config.power {
            None => None,
            Some((source, interval)) => {
                let path = dir.join(format!("{prefix}power.jsonl"));
                match Power::start(source, *interval, &config.http, origin, &path)? {
                    Power::Sampling(sampler) => Some(sampler),
                    Power::Off(note) => {
                        notes.push(note);
                        None
                    }
                }
            }
        };
        let scraper = match &config.scrape {
            Some(scrape) if !scrape.urls.is_empty() => {
                let path = dir.join(format!("{prefix}server_metrics.jsonl"));
                Some(Scraper::start(scrape.clone(), origin, &path)?)
            }
            _ => None,
        };
        Ok(Telemetry {
            scraper,
            power,
            notes,
        })
    }

    /// Takes a last scrape, stops everything and returns the power trace.
    pub fn stop(mut self) -> Stopped {
        if let Some(scraper) = self.scraper.take() {
            scraper.stop();
        }
        Stopped {
            power: self.power.take().map(PowerSampler::stop),
        }
    }
}
