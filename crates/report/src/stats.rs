//! The arithmetic behind the charts: LoadGen's percentile rule, histograms,
//! CDFs thinned to a fixed number of points, and time bins. Large series are
//! binned here so a 270,000-sample run draws as few elements as a small one.

/// Points a CDF keeps at most: beyond this the curve looks the same.
pub const CDF_POINTS: usize = 200;
/// Bins of a latency or output-length histogram.
pub const HISTOGRAM_BINS: usize = 40;
/// Time bins of the timeline charts at most.
pub const TIME_BINS: usize = 300;
/// Points per scatter series at most (every k-th sample beyond that).
pub const SCATTER_POINTS: usize = 2000;

/// LoadGen's percentile of sorted values: `sorted[(size_t)(n * p)]`, so the
/// report's p99 is the summary's p99 when both see the same samples.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    Some(sorted[((sorted.len() as f64 * p) as usize).min(last)])
}

/// Equal-width bins over `[lo, hi]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The left edge of the first bin.
    pub lo: f64,
    /// The width of each bin.
    pub width: f64,
    /// Values per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins `values` into `bins` equal bins between their smallest and largest.
    pub fn new(values: &[f64], bins: usize) -> Histogram {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if values.is_empty() {
            return Histogram {
                lo: 0.0,
                width: 1.0,
                counts: Vec::new(),
            };
        }
        let width = if hi > lo {
            (hi - lo) / bins as f64
        } else {
            1.0
        };
        let n = if hi > lo { bins } else { 1 };
        let mut counts = vec![0u64; n];
        for &v in values {
            counts[(((v - lo) / width) as usize).min(n - 1)] += 1;
        }
        Histogram { lo, width, counts }
    }

    /// Values counted over all bins.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The empirical CDF of sorted values as (value, fraction ≤ value) points:
/// every value for small series, [`CDF_POINTS`] evenly spaced ranks beyond.
pub fn cdf(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n <= CDF_POINTS {
        return sorted
            .iter()
            .enumerate()
            .map(|(i, &v)| (v, (i + 1) as f64 / n as f64))
            .collect();
    }
    (1..=CDF_POINTS)
        .map(|k| {
            let rank = (k * n).div_ceil(CDF_POINTS);
            (sorted[rank - 1], rank as f64 / n as f64)
        })
        .collect()
}

/// Every k-th point so that at most [`SCATTER_POINTS`] remain.
pub fn thin<T: Copy>(points: &[T]) -> Vec<T> {
    let step = points.len().div_ceil(SCATTER_POINTS).max(1);
    points.iter().step_by(step).copied().collect()
}

/// Equal time bins from 0 to `end` seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeBins {
    /// Bin width in seconds.
    pub width: f64,
    /// Number of bins.
    pub count: usize,
}

impl TimeBins {
    /// At most [`TIME_BINS`] bins over `[0, end]`, one per 10 ms for short runs.
    pub fn new(end: f64) -> TimeBins {
        let count = ((end / 0.01).ceil() as usize).clamp(1, TIME_BINS);
        TimeBins {
            width: (end / count as f64).max(1e-9),
            count,
        }
    }

    /// The bin holding time `t` (the last bin holds `end`).
    pub fn index(&self, t: f64) -> usize {
        ((t / self.width).max(0.0) as usize).min(self.count - 1)
    }

    /// The right edge of bin `i`, in seconds.
    pub fn end_of(&self, i: usize) -> f64 {
        (i + 1) as f64 * self.width
    }

    /// How many of `times` fall at or before each bin's end.
    pub fn cumulative(&self, times: impl Iterator<Item = f64>) -> Vec<u64> {
        let mut per_bin = vec![0u64; self.count];
        for t in times {
            per_bin[self.index(t)] += 1;
        }
        per_bin
            .iter()
            .scan(0u64, |sum, &c| {
                *sum += c;
                Some(*sum)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_loadgens_index() {
        let v: Vec<f64> = (0..6396).map(f64::from).collect();
        // The loadgen crate's own test: index (size_t)(6396 * 0.99) = 6332.
        assert_eq!(percentile(&v, 0.99), Some(6332.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn histogram_counts_every_value() {
        let h = Histogram::new(&[1.0, 2.0, 2.5, 10.0], 4);
        assert_eq!(h.counts, [3, 0, 0, 1]);
        assert_eq!(Histogram::new(&[3.0, 3.0], 4).counts, [2]);
    }

    #[test]
    fn cdf_ends_at_one_and_is_thinned() {
        let small = cdf(&[1.0, 2.0]);
        assert_eq!(small, [(1.0, 0.5), (2.0, 1.0)]);
        let big: Vec<f64> = (0..1001).map(f64::from).collect();
        let c = cdf(&big);
        assert_eq!(c.len(), CDF_POINTS);
        assert_eq!(c.last(), Some(&(1000.0, 1.0)));
    }

    #[test]
    fn time_bins_cover_the_run() {
        let b = TimeBins::new(100.0);
        assert_eq!(b.count, TIME_BINS);
        assert_eq!(b.index(100.0), TIME_BINS - 1);
        assert_eq!(
            b.cumulative([0.0, 50.0, 100.0].into_iter()).last(),
            Some(&3)
        );
        assert_eq!(thin(&vec![0u8; 4001]).len(), 1334);
        assert_eq!(thin(&vec![0u8; 2000]).len(), 2000);
    }
}
