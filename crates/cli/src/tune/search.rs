//! The searches, as pure state machines fed with verdicts: which QPS (or
//! concurrency) to probe next. Keeping them free of I/O makes them
//! replayable (a resumed `tune` feeds them the recorded verdicts) and
//! testable against a known boundary without a server.

/// Up-steps while no QPS has failed yet.
const UP: f64 = 1.25;
/// Down-steps while no QPS has passed yet.
const DOWN: f64 = 0.7;
/// Give up below this fraction of the starting QPS.
const LOWEST: f64 = 1.0 / 64.0;
/// Bisection stops once the bracket is this narrow (relative to its floor).
pub const RESOLUTION: f64 = 0.02;

/// What a probe said about one QPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// LoadGen judged the run VALID.
    Pass,
    /// INVALID, or some requests failed.
    Fail,
    /// Every request failed: no lower QPS will pass either.
    Broken,
}

/// The next step of the Server search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Run a probe at this QPS.
    Probe(f64),
    /// The bracket is within [`RESOLUTION`].
    Done,
    /// Nothing passed down to the lowest QPS worth trying, or the server is broken.
    NoPass,
}

/// Bracket, then bisect `target_qps`.
///
/// From the start QPS it steps up by ×1.25 while probes pass, or down by ×0.7
/// while they fail (the second step in the same direction squares the
/// factor and later ones raise it to the fourth power, so a poor start costs
/// a few probes, not dozens), until one QPS
/// passes and a higher one fails; then it
/// probes the middle of that bracket until it is within 2 %. A verdict that
/// contradicts the bracket (noise near the boundary) moves the bracket to
/// the newest evidence rather than ignoring it.
#[derive(Clone, Debug)]
pub struct QpsSearch {
    start: f64,
    /// Highest passing QPS.
    pub lo: Option<f64>,
    /// Lowest failing QPS above `lo`.
    pub hi: Option<f64>,
    broken: bool,
    /// Steps taken in a row in the current direction (before a bracket exists).
    streak: u32,
}

impl QpsSearch {
    /// A search starting at `start` QPS.
    pub fn new(start: f64) -> Self {
        QpsSearch {
            start,
            lo: None,
            hi: None,
            broken: false,
            streak: 0,
        }
    }

    /// What to do next.
    pub fn next(&self) -> Step {
        if self.broken {
            return Step::NoPass;
        }
        match (self.lo, self.hi) {
            (None, None) => Step::Probe(self.start),
            (Some(lo), None) => Step::Probe(lo * self.factor(UP)),
            (None, Some(hi)) if hi <= self.start * LOWEST => Step::NoPass,
            (None, Some(hi)) => Step::Probe((hi * self.factor(DOWN)).max(self.start * LOWEST)),
            (Some(lo), Some(hi)) if hi / lo - 1.0 <= RESOLUTION => Step::Done,
            (Some(lo), Some(hi)) => Step::Probe(lo + (hi - lo) / 2.0),
        }
    }

    /// `base` raised to 1, 2, 4 for the 1st, 2nd, 3rd and later step in a row.
    fn factor(&self, base: f64) -> f64 {
        base.powi(1 << self.streak.min(2))
    }

    /// Takes a probe's verdict at `qps`.
    pub fn record(&mut self, qps: f64, verdict: Verdict) {
        let direction = (self.lo.is_some(), self.hi.is_some());
        self.take(qps, verdict);
        self.streak = if (self.lo.is_some(), self.hi.is_some()) == direction {
            self.streak + 1
        } else {
            0
        };
    }

    fn take(&mut self, qps: f64, verdict: Verdict) {
        match verdict {
            Verdict::Broken => self.broken = true,
            Verdict::Pass => {
                self.lo = Some(self.lo.map_or(qps, |lo| lo.max(qps)));
                if self.hi.is_some_and(|hi| hi <= qps) {
                    self.hi = None;
                }
            }
            Verdict::Fail => {
                self.hi = Some(self.hi.map_or(qps, |hi| hi.min(qps)));
                if self.lo.is_some_and(|lo| lo >= qps) {
                    self.lo = None;
                }
            }
        }
    }

    /// About how many more probes the search needs (for the progress line).
    pub fn remaining(&self) -> usize {
        match (self.lo, self.hi) {
            (Some(lo), Some(hi)) => {
                let halvings = ((hi / lo - 1.0) / RESOLUTION).log2().ceil();
                halvings.max(0.0) as usize
            }
            _ => 4,
        }
    }
}

/// The next step of the Offline concurrency sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SweepStep {
    /// Run a probe at this concurrency (per endpoint).
    Probe(usize),
    /// Throughput stopped rising.
    Done,
}

/// Doubles the per-endpoint concurrency from 1 until tokens/s rises by less
/// than 5 % over the previous doubling, or `max` is reached.
#[derive(Clone, Debug)]
pub struct ConcurrencySweep {
    /// (per-endpoint concurrency, tokens/s) probed so far, in order.
    pub points: Vec<(usize, f64)>,
    max: usize,
}

/// A doubling that adds less than this is the plateau.
const STILL_RISING: f64 = 1.05;
/// The knee: the least concurrency within this fraction of the plateau.
const KNEE: f64 = 0.95;

impl ConcurrencySweep {
    /// A sweep up to `max` per endpoint.
    pub fn new(max: usize) -> Self {
        ConcurrencySweep {
            points: Vec::new(),
            max: max.max(1),
        }
    }

    /// What to do next.
    pub fn next(&self) -> SweepStep {
        let Some(&(c, tps)) = self.points.last() else {
            return SweepStep::Probe(1);
        };
        if self.points.len() >= 2 {
            let prev = self.points[self.points.len() - 2].1;
            if tps < prev * STILL_RISING {
                return SweepStep::Done;
            }
        }
        if c >= self.max {
            return SweepStep::Done;
        }
        SweepStep::Probe((c * 2).min(self.max))
    }

    /// Takes the tokens/s measured at `concurrency`.
    pub fn record(&mut self, concurrency: usize, tokens_per_second: f64) {
        self.points.push((concurrency, tokens_per_second));
    }

    /// The highest tokens/s seen.
    pub fn plateau(&self) -> Option<f64> {
        self.points.iter().map(|p| p.1).reduce(f64::max)
    }

    /// The least concurrency within 5 % of the plateau.
    pub fn knee(&self) -> Option<usize> {
        let plateau = self.plateau()?;
        self.points
            .iter()
            .filter(|p| p.1 >= KNEE * plateau)
            .map(|p| p.0)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search against a boundary: QPS up to `b` pass.
    fn search(start: f64, b: f64) -> (QpsSearch, usize) {
        let mut s = QpsSearch::new(start);
        let mut probes = 0;
        while let Step::Probe(q) = s.next() {
            probes += 1;
            s.record(q, if q <= b { Verdict::Pass } else { Verdict::Fail });
            assert!(probes < 40, "the search does not end");
        }
        (s, probes)
    }

    #[test]
    fn it_brackets_the_boundary_within_the_resolution() {
        for (start, b) in [(10.0, 53.7), (100.0, 53.7), (53.7, 53.7), (1.0, 1000.0)] {
            let (s, probes) = search(start, b);
            assert_eq!(s.next(), Step::Done);
            let (lo, hi) = (s.lo.unwrap(), s.hi.unwrap());
            assert!(
                lo <= b && b < hi && hi / lo - 1.0 <= RESOLUTION,
                "{lo} {hi}"
            );
            assert!(probes <= 30, "{probes} probes from {start}");
        }
    }

    #[test]
    fn nothing_passes_or_everything_breaks() {
        let (s, _) = search(10.0, 0.0);
        assert_eq!(s.next(), Step::NoPass);
        let mut s = QpsSearch::new(10.0);
        s.record(10.0, Verdict::Broken);
        assert_eq!(s.next(), Step::NoPass);
    }

    #[test]
    fn the_sweep_stops_at_the_plateau() {
        let mut sweep = ConcurrencySweep::new(1024);
        // Tokens/s rise linearly up to 16, then stay.
        while let SweepStep::Probe(c) = sweep.next() {
            sweep.record(c, 100.0 * c.min(16) as f64);
        }
        assert_eq!(sweep.points.last().unwrap().0, 32);
        assert_eq!(sweep.plateau(), Some(1600.0));
        assert_eq!(sweep.knee(), Some(16));
    }
}
