//! Energy from a power trace: the integral of watts over a time window,
//! per GPU and in total, with the average and the peak.
//!
//! Between two readings power is taken to change linearly (the trapezoid
//! rule), which is exact for ramps; a step between two readings costs at
//! most half its height times the gap between them. At a window's edges
//! the trace is interpolated; the part of a window outside the trace is
//! not counted and shows as `covered_s < window_s`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::power::PowerSample;

/// Energy over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Energy {
    /// The window's length, seconds.
    pub window_s: f64,
    /// The part of the window the readings cover, seconds.
    pub covered_s: f64,
    /// Joules over the covered part, all GPUs.
    pub joules: f64,
    /// `joules / covered_s`, all GPUs together.
    pub avg_watts: f64,
    /// The highest reading of all GPUs together, within the window.
    pub peak_watts: f64,
    /// Readings within the window.
    pub samples: usize,
    /// Per GPU, in key order.
    pub gpus: Vec<GpuEnergy>,
}

/// One GPU's share of an [`Energy`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuEnergy {
    /// The GPU's key in the trace.
    pub gpu: String,
    /// Joules over the covered part.
    pub joules: f64,
    /// Average watts over the covered part.
    pub avg_watts: f64,
    /// Highest reading within the window.
    pub peak_watts: f64,
}

/// The integral of a piecewise-linear `(t_s, watts)` trace over `[a, b]`,
/// and the covered seconds.
pub fn integrate(points: &[(f64, f64)], a: f64, b: f64) -> (f64, f64) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (0.0, 0.0);
    };
    let (lo, hi) = (a.max(first.0), b.min(last.0));
    if hi <= lo {
        return (0.0, 0.0);
    }
    let at = |t: f64| -> f64 {
        let i = points
            .partition_point(|p| p.0 <= t)
            .clamp(1, points.len() - 1);
        let ((t0, w0), (t1, w1)) = (points[i - 1], points[i]);
        if t1 <= t0 {
            return w1;
        }
        w0 + (w1 - w0) * (t - t0) / (t1 - t0)
    };
    let mut joules = 0.0;
    let mut prev = (lo, at(lo));
    for &(t, w) in points.iter().filter(|p| p.0 > lo && p.0 < hi) {
        joules += (t - prev.0) * (w + prev.1) / 2.0;
        prev = (t, w);
    }
    joules += (hi - prev.0) * (at(hi) + prev.1) / 2.0;
    (joules, hi - lo)
}

/// Energy of `samples` over `[start_ns, end_ns]` (nanoseconds on the trace's clock).
pub fn energy(samples: &[PowerSample], start_ns: u64, end_ns: u64) -> Energy {
    let (a, b) = (start_ns as f64 / 1e9, end_ns as f64 / 1e9);
    let mut per_gpu: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for s in samples {
        for (gpu, &w) in &s.watts {
            per_gpu
                .entry(gpu.as_str())
                .or_default()
                .push((s.t_ns as f64 / 1e9, w));
        }
    }
    let inside = |t_ns: u64| t_ns >= start_ns && t_ns <= end_ns;
    let mut gpus = Vec::new();
    let mut covered: f64 = 0.0;
    for (gpu, points) in &per_gpu {
        let (joules, seconds) = integrate(points, a, b);
        covered = covered.max(seconds);
        let peak = points
            .iter()
            .filter(|(t, _)| inside((t * 1e9).round() as u64))
            .map(|p| p.1)
            .fold(0.0, f64::max);
        gpus.push(GpuEnergy {
            gpu: gpu.to_string(),
            joules,
            avg_watts: if seconds > 0.0 { joules / seconds } else { 0.0 },
            peak_watts: peak,
        });
    }
    let joules: f64 = gpus.iter().map(|g| g.joules).sum();
    let within: Vec<&PowerSample> = samples.iter().filter(|s| inside(s.t_ns)).collect();
    Energy {
        window_s: (b - a).max(0.0),
        covered_s: covered,
        joules,
        avg_watts: if covered > 0.0 { joules / covered } else { 0.0 },
        peak_watts: within
            .iter()
            .map(|s| s.watts.values().sum::<f64>())
            .fold(0.0, f64::max),
        samples: within.len(),
        gpus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_trace_gives_watts_times_seconds_and_clips_to_the_window() {
        let points = [(0.0, 100.0), (1.0, 100.0), (2.0, 100.0)];
        assert_eq!(integrate(&points, 0.5, 1.5), (100.0, 1.0));
        // Outside the trace nothing is counted.
        assert_eq!(integrate(&points, -1.0, 3.0), (200.0, 2.0));
        assert_eq!(integrate(&points, 5.0, 6.0), (0.0, 0.0));
        assert_eq!(integrate(&[], 0.0, 1.0), (0.0, 0.0));
    }
}
