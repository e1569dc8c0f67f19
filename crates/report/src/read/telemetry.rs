//! The telemetry `run` writes beside `samples.jsonl` (crates/telemetry):
//! `server_metrics.jsonl` (one line per scrape of a server's `/metrics`, or a
//! `gap` line), `power.jsonl` (one line per GPU power reading, or a `gap`
//! line) and the `energy` object of `results.json`. A line that is neither is
//! skipped and named; the lines around it are kept.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One line of `server_metrics.jsonl` or `power.jsonl`: values, or a gap.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Reading {
    /// Nanoseconds since the run started (the clock of `samples.jsonl`).
    pub t_ns: u64,
    /// The scraped page (`server_metrics.jsonl` only).
    #[serde(default)]
    pub url: Option<String>,
    /// Common metric names to values (`running`, `queued`, `kv_usage`, …).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Watts per GPU (`power.jsonl` only).
    #[serde(default)]
    pub watts: BTreeMap<String, f64>,
    /// Why this tick has no values.
    #[serde(default)]
    pub gap: Option<String>,
}

/// The readings of one telemetry file, and the lines that could not be read.
#[derive(Clone, Debug, Default)]
pub struct TelemetryFile {
    /// Readings and gaps in file order.
    pub readings: Vec<Reading>,
    /// `line N: why` for each line that was skipped.
    pub bad_lines: Vec<String>,
}

/// Reads the lines of `text`; empty lines are ignored.
pub fn parse(text: &str) -> TelemetryFile {
    let mut out = TelemetryFile::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Reading>(line) {
            Ok(r) => out.readings.push(r),
            Err(e) => out.bad_lines.push(format!("line {}: {e}", i + 1)),
        }
    }
    out
}

/// `results.json`'s `energy`: the measured window's energy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct EnergyReport {
    /// `nvml`, `dcgm <url>` or `command <cmd>`.
    pub source: String,
    /// LoadGen's measured window, seconds.
    pub window_s: f64,
    /// Joules over the window, all GPUs.
    pub joules: f64,
    /// Average watts over the window, all GPUs together.
    pub avg_watts: f64,
    /// Peak watts within the window, all GPUs together.
    pub peak_watts: f64,
    /// Joules per output token.
    #[serde(default)]
    pub joules_per_output_token: Option<f64>,
    /// Output tokens per second per kW.
    #[serde(default)]
    pub tokens_per_s_per_kw: Option<f64>,
    /// Per GPU, over the window.
    #[serde(default)]
    pub gpus: Vec<GpuEnergy>,
}

/// One GPU's share of the window's energy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct GpuEnergy {
    /// The GPU's key.
    pub gpu: String,
    /// Joules.
    pub joules: f64,
    /// Average watts.
    pub avg_watts: f64,
    /// Peak watts.
    pub peak_watts: f64,
}

/// The `energy` of `results.json`: `Ok(None)` when absent or `null`, an
/// error text when it is there but not an energy object.
pub fn energy(results: &serde_json::Value) -> Result<Option<EnergyReport>, String> {
    match results.get("energy") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_gaps_and_bad_lines() {
        let text = "{\"t_ns\":1000,\"url\":\"http://h/metrics\",\"server\":\"sglang\",\"scrape_ms\":1.5,\"metrics\":{\"running\":2,\"queued\":3}}\n\
                    {\"t_ns\":2000,\"url\":\"http://h/metrics\",\"gap\":\"no answer\"}\n\
                    {\"t_ns\":\n\
                    {\"t_ns\":3000,\"watts\":{\"0\":150.5,\"1\":100}}\n";
        let f = parse(text);
        assert_eq!(f.readings.len(), 3);
        assert_eq!(f.readings[0].metrics["queued"], 3.0);
        assert_eq!(f.readings[1].gap.as_deref(), Some("no answer"));
        assert_eq!(f.readings[2].watts["0"], 150.5);
        assert_eq!(f.bad_lines.len(), 1);
        assert!(f.bad_lines[0].starts_with("line 3: "), "{:?}", f.bad_lines);
    }

    #[test]
    fn energy_absent_null_or_wrong() {
        assert_eq!(energy(&serde_json::json!({})), Ok(None));
        assert_eq!(energy(&serde_json::json!({"energy": null})), Ok(None));
        assert!(energy(&serde_json::json!({"energy": {"source": 3}})).is_err());
        let e = energy(
            &serde_json::json!({"energy": {"source": "nvml", "window_s": 2.0,
            "joules": 500.0, "avg_watts": 250.0, "peak_watts": 260.0,
            "joules_per_output_token": null, "gpus": []}}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.joules, 500.0);
        assert_eq!(e.tokens_per_s_per_kw, None);
    }
}
