//! `results.json`'s `energy`: the measured window's energy normalised by
//! the tokens generated in it, beside the whole run's.

use serde::Serialize;

use crate::energy::{energy, Energy, GpuEnergy};
use crate::power::PowerTrace;

/// The `energy` object of `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EnergyReport {
    /// `nvml`, `dcgm <url>` or `command <cmd>`.
    pub source: String,
    /// LoadGen's measured window (first issue to last completion), seconds.
    pub window_s: f64,
    /// Joules over the window, all GPUs.
    pub joules: f64,
    /// Average watts over the window, all GPUs together.
    pub avg_watts: f64,
    /// Peak watts within the window, all GPUs together.
    pub peak_watts: f64,
    /// Joules per output token generated in the window.
    pub joules_per_output_token: Option<f64>,
    /// Output tokens per second per kilowatt of average power.
    pub tokens_per_s_per_kw: Option<f64>,
    /// The part of the window the readings cover, seconds.
    pub covered_s: f64,
    /// Readings within the window, and their rate.
    pub samples: usize,
    /// Readings per second within the window.
    pub sample_hz: f64,
    /// Average and peak watts and joules per GPU, over the window.
    pub gpus: Vec<GpuEnergy>,
    /// The same over the whole run (first to last reading).
    pub run: Energy,
}

impl EnergyReport {
    /// The report for `trace`, windowed to `window` (nanoseconds on the
    /// trace's clock), in which `output_tokens` were generated.
    pub fn new(trace: &PowerTrace, window: (u64, u64), output_tokens: usize) -> EnergyReport {
        let w = energy(&trace.samples, window.0, window.1);
        let run = match (trace.samples.first(), trace.samples.last()) {
            (Some(a), Some(b)) => energy(&trace.samples, a.t_ns, b.t_ns),
            _ => energy(&[], 0, 0),
        };
        let seconds = w.covered_s;
        let per_token =
            (output_tokens > 0 && w.joules > 0.0).then(|| w.joules / output_tokens as f64);
        let per_kw = (seconds > 0.0 && w.avg_watts > 0.0)
            .then(|| output_tokens as f64 / seconds / (w.avg_watts / 1000.0));
        EnergyReport {
            source: trace.source.clone(),
            window_s: w.window_s,
            joules: w.joules,
            avg_watts: w.avg_watts,
            peak_watts: w.peak_watts,
            joules_per_output_token: per_token,
            tokens_per_s_per_kw: per_kw,
            covered_s: w.covered_s,
            samples: w.samples,
            sample_hz: if w.window_s > 0.0 {
                w.samples as f64 / w.window_s
            } else {
                0.0
            },
            gpus: w.gpus,
            run,
        }
    }

    /// The summary lines: the window's totals, then one line per GPU.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "energy ({}): {:.1} J over the measured window of {:.2} s, avg {:.1} W, peak {:.1} W, \
             {} J/output token, {} tokens/s per kW ({} readings, {:.1} Hz)",
            self.source,
            self.joules,
            self.window_s,
            self.avg_watts,
            self.peak_watts,
            self.joules_per_output_token
                .map_or("-".into(), |v| format!("{v:.4}")),
            self.tokens_per_s_per_kw
                .map_or("-".into(), |v| format!("{v:.1}")),
            self.samples,
            self.sample_hz,
        )];
        for g in &self.gpus {
            lines.push(format!(
                "  GPU {}: avg {:.1} W, peak {:.1} W, {:.1} J",
                g.gpu, g.avg_watts, g.peak_watts, g.joules
            ));
        }
        // A reading a few ms after the window opens is normal; a hole is not.
        if self.covered_s < 0.99 * self.window_s {
            lines.push(format!(
                "  warning: the readings cover {:.2} s of the {:.2} s window",
                self.covered_s, self.window_s
            ));
        }
        lines
    }
}
