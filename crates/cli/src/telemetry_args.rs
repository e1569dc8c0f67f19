//! The telemetry flags `run` and `infer` share (server `/metrics` scrapes,
//! GPU power), turned into a running [`telemetry::Telemetry`] and, after
//! the run, the `energy` of `results.json` and the summary's energy lines.
//! `tune` can use the same group.

use std::path::Path;
use std::time::{Duration, Instant};

use telemetry::{EnergyReport, HttpConfig, PowerSource, ScrapeConfig, Telemetry, TelemetryConfig};

use crate::backend_args::{BackendArg, BackendArgs};

/// Where GPU power readings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PowerArg {
    /// NVML when this host has an NVIDIA driver, otherwise none (with a note).
    Auto,
    /// NVML on this host; an error without a driver.
    Nvml,
    /// No power readings.
    None,
}

/// Server and GPU telemetry on the run's clock.
#[derive(clap::Args, Clone, Debug)]
pub struct TelemetryArgs {
    /// Seconds between scrapes of each server's Prometheus page, written to
    /// server_metrics.jsonl beside samples.jsonl (0: no scraping).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub metrics_interval: f64,
    /// The Prometheus page to scrape, instead of <endpoint>/metrics for each
    /// --endpoint (trtllm-serve: http://HOST:PORT/prometheus/metrics); may repeat.
    #[arg(long, value_name = "URL")]
    pub metrics_url: Vec<String>,
    /// Also keep, raw, every series not mapped to a common name whose name
    /// matches this regular expression (e.g. 'sglang:.*|vllm:.*').
    #[arg(long, value_name = "REGEX")]
    pub metrics_keep: Option<String>,
    /// GPU power source on this host (see also --power-dcgm, --power-cmd).
    #[arg(long, value_enum, default_value = "auto")]
    pub power: PowerArg,
    /// Read GPU power from a DCGM exporter's Prometheus page (http://HOST:9400/metrics).
    #[arg(long, value_name = "URL", conflicts_with = "power_cmd")]
    pub power_dcgm: Option<String>,
    /// Read power from a command that prints one reading per line, in watts
    /// (several numbers on a line: one per GPU); run with `sh -c`.
    #[arg(long, value_name = "CMD")]
    pub power_cmd: Option<String>,
    /// Milliseconds between power readings from NVML or DCGM (100 = 10 Hz).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub power_interval_ms: u64,
}

impl TelemetryArgs {
    /// The configuration for a run against `backend`'s endpoints.
    pub fn config(&self, backend: &BackendArgs) -> anyhow::Result<TelemetryConfig> {
        anyhow::ensure!(
            self.metrics_interval.is_finite() && self.metrics_interval >= 0.0,
            "--metrics-interval must be a number of seconds >= 0 (0 turns scraping off)"
        );
        anyhow::ensure!(
            self.power_interval_ms > 0,
            "--power-interval-ms must be at least 1"
        );
        let http = HttpConfig {
            ca_certs: backend.ca_cert.clone(),
            ..HttpConfig::default()
        };
        let keep = self
            .metrics_keep
            .as_deref()
            .map(telemetry::keep_pattern)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--metrics-keep: {e}"))?;
        let urls = if !self.metrics_url.is_empty() {
            self.metrics_url.clone()
        } else if backend.backend == BackendArg::Embedded {
            Vec::new()
        } else {
            backend
                .endpoint
                .iter()
                .map(|e| format!("{}/metrics", e.trim().trim_end_matches('/')))
                .collect()
        };
        let scrape = (self.metrics_interval > 0.0 && !urls.is_empty()).then(|| ScrapeConfig {
            urls,
            interval: Duration::from_secs_f64(self.metrics_interval),
            keep,
            http: http.clone(),
        });
        let interval = Duration::from_millis(self.power_interval_ms);
        let source = match (&self.power_dcgm, &self.power_cmd, self.power) {
            (Some(_), _, PowerArg::Nvml) | (_, Some(_), PowerArg::Nvml) => anyhow::bail!(
                "--power nvml and --power-dcgm/--power-cmd name two power sources: keep one"
            ),
            (Some(url), _, _) => Some(PowerSource::Dcgm(url.clone())),
            (_, Some(cmd), _) => Some(PowerSource::Command(cmd.clone())),
            (None, None, PowerArg::Auto) => Some(PowerSource::Auto),
            (None, None, PowerArg::Nvml) => Some(PowerSource::Nvml),
            (None, None, PowerArg::None) => None,
        };
        Ok(TelemetryConfig {
            scrape,
            power: source.map(|s| (s, interval)),
            http,
        })
    }

    /// Starts telemetry writing `{dir}/{prefix}server_metrics.jsonl` and
    /// `{dir}/{prefix}power.jsonl`; notes (no NVML) are printed here.
    pub fn start(
        &self,
        backend: &BackendArgs,
        origin: Instant,
        dir: &Path,
        prefix: &str,
    ) -> anyhow::Result<Telemetry> {
        let telemetry = Telemetry::start(&self.config(backend)?, origin, dir, prefix)?;
        for note in &telemetry.notes {
            eprintln!("{note}");
        }
        Ok(telemetry)
    }
}

/// Stops `telemetry` and, when power was read, the energy over `window`
/// (nanoseconds since the origin) in which `output_tokens` were generated.
pub fn finish(
    telemetry: Telemetry,
    window: Option<(u64, u64)>,
    output_tokens: usize,
) -> Option<EnergyReport> {
    let trace = telemetry.stop().power?;
    let window =
        window.or_else(|| Some((trace.samples.first()?.t_ns, trace.samples.last()?.t_ns)))?;
    Some(EnergyReport::new(&trace, window, output_tokens))
}
